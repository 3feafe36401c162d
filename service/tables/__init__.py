"""Tables people fill in a spreadsheet: declared once as columns, read back from XLSX or CSV uploads with
the sheet, row and column of every value (``reading``), and written as input templates (``sheets``,
``workbook``). What a table means — pack lines and agreements, clients — is its owner's business."""
