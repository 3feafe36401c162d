"""Validation problems with stable codes: the one vocabulary of everything that can be wrong with data.

Every error a schema reports is a :class:`Problem`: a ``str`` (so marshmallow stores and merges it
like any message) that also carries a stable ``code`` and the parameters of its message. The
English text below is the gettext message id; the service translates it through its babel
catalogs (``service/translations``), so Latvian lives in ``messages.po``, not in code.

>>> p = problem("text.too_long", max=200)
>>> p.code, str(p)
('text.too_long', 'Must be at most 200 characters long.')
>>> p.template
'Must be at most {max} characters long.'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError


def N_(message: str) -> str:
    """Mark a message for extraction by ``pybabel extract`` without translating it here."""
    return message


#: Every error code and its English message (the gettext msgid). Parameters in braces.
MESSAGES: dict[str, str] = {
    # Generic, from marshmallow's own field and schema checks.
    "required": N_("This field is required."),
    "null": N_("This field may not be empty (null)."),
    "invalid": N_("The value is not valid."),
    "unknown_field": N_("Unknown field: it is not part of this document."),
    "type.object": N_("Expected an object."),
    "type.list": N_("Expected a list."),
    "type.string": N_("Expected a text string."),
    "type.integer": N_("Expected a whole number."),
    "type.boolean": N_("Expected true or false."),
    "type.number": N_('Expected a number with a decimal point, e.g. "12.50" (not "12,50").'),
    "choice": N_("Must be one of: {choices}."),
    "list.too_short": N_("Must have at least {min} item(s)."),
    "list.too_long": N_("Must have at most {max} items."),
    "list.duplicate": N_("The value {value} is repeated."),
    # The request body itself.
    "body.media_type": N_("Send the data as JSON (Content-Type: application/json)."),
    "body.encoding": N_("The data are not valid UTF-8 text."),
    "body.json": N_("The data are not valid JSON: {reason} (line {line}, column {column})."),
    "body.duplicate_key": N_('The key "{key}" appears twice in one object.'),
    "body.constant": N_("{constant} is not allowed in JSON data."),
    "body.too_deep": N_("The data is nested more than {max} levels deep."),
    "body.number_too_long": N_("A number in the data has too many digits."),
    "body.number_out_of_range": N_("The number cannot be read: its exponent is too large or too small."),
    "body.too_large": N_("The data are larger than the service accepts ({max} bytes)."),
    "body.too_many_items": N_("A list in the data has more than {max} items."),
    "body.empty": N_("The body is empty: send the document's data as JSON."),
    # The HTTP request itself, refused by the server before the application sees it.
    "request.malformed": N_("The request is not a well-formed HTTP request."),
    "request.headers_too_large": N_(
        "The request's headers are larger than the service accepts ({max} bytes)."
    ),
    "request.not_implemented": N_(
        "The server does not support what the request asks for (e.g. its transfer coding)."
    ),
    # Access.
    "auth.missing": N_("Send a bearer token: Authorization: Bearer <token>."),
    "auth.invalid": N_("The token is not valid: unknown, expired or revoked."),
    "auth.forbidden": N_("The role {role} may not do this."),
    # Web pages: signing in, passwords, forms.
    "auth.signed_out": N_("Sign in to continue."),
    "auth.expired": N_("You were signed out after a while without activity. Sign in again."),
    "signin.invalid": N_("The username or the password is wrong."),
    "signin.slow": N_("Too many failed attempts from this address. Try again in {seconds} seconds."),
    "signin.locked": N_(
        "The account is locked for a while after repeated failed sign-ins. Try later or ask an administrator."
    ),
    "password.short": N_("The password must be at least {min} characters long."),
    "password.long": N_("The password may be at most {max} characters long."),
    "password.has_username": N_("The password must not contain the username."),
    "password.mismatch": N_("The two passwords differ."),
    "link.invalid": N_(
        "This link is not valid: it was used, replaced or has expired. Ask an administrator for a new one."
    ),
    "csrf.invalid": N_("The form has expired. Open the page again and send it once more."),
    # Users of the web pages, as administrators manage them.
    "user.username_format": N_(
        "A username is 2 to 80 small Latin letters, digits, dots, hyphens or underscores, e.g. ilze.berzina."
    ),
    "user.taken": N_("There is a user with this username already."),
    "user.role": N_("Choose a role."),
    "user.unknown": N_("There is no such user."),
    "user.disable_self": N_("You cannot disable your own account."),
    "user.disabled": N_("The user is disabled: enable them first, then give a link."),
    # Uploads.
    "upload.missing": N_('Send the filled form as a file in the multipart field "file".'),
    "upload.empty": N_("The file is empty."),
    "upload.too_large": N_("The file, or a part inside it, is larger than allowed."),
    "upload.unknown_type": N_("The file is neither a PDF nor a Word (DOCX) document."),
    "upload.macro_document": N_("Documents with macros are not accepted; save the form without macros."),
    "upload.corrupt": N_("The file is damaged or incomplete (perhaps it was cut off while uploading)."),
    "upload.zip_bomb": N_("The document unpacks to far more data than a form can hold."),
    "upload.too_many_entries": N_("The document has more parts than a form can have."),
    "upload.bad_member_name": N_("The document contains a part with a forbidden name."),
    "upload.external_target": N_(
        "The document links to external content (a remote template, picture or link)."
    ),
    "upload.doctype": N_(
        "The document contains a document type declaration (DOCTYPE), which forms never have."
    ),
    "upload.parse_timeout": N_("Reading the document took too long."),
    "upload.parse_limit": N_("Reading the document needed more memory or resources than allowed."),
    "upload.unreadable": N_("The document could not be read."),
    "form.encrypted": N_("The form is encrypted: save it without a password and send it again."),
    "form.xfa": N_("The form is an XFA form, which cannot be read: fill the form this service made."),
    "form.no_fields": N_("The file has no form fields (perhaps it was printed or flattened to PDF)."),
    "form.unknown": N_("This is not a form made by this service: download the form and fill that one."),
    "form.invalid": N_("The form's fields cannot be read as a delivery act."),
    "form.doctype": N_(
        "The document contains a document type declaration (DOCTYPE), which forms never have."
    ),
    # Uploaded DOCX templates (service.documents.uploaded): repairs are warnings, the rest refusals.
    "template.not_docx": N_("A template must be a Word document (DOCX)."),
    "template.no_tags": N_("The template has no tags, so it would print none of the document's data."),
    "template.split_tag": N_(
        "A tag was split into pieces with different formatting (Word does this when a tag is edited); "
        "it was joined, with the formatting of its first letter."
    ),
    "template.smart_quotes": N_("Typographic quotes inside a tag were replaced with straight ones."),
    "template.non_breaking_space": N_("Non-breaking spaces inside a tag were replaced with ordinary spaces."),
    "template.broken_tag": N_("A tag is not closed in its paragraph, so it cannot be read."),
    "template.unclosed_block": N_("The block “{tag}” is not closed: end it with “{{% {end} %}}”."),
    "template.unexpected_tag": N_("The tag “{tag}” has no block to end or continue here."),
    "template.syntax": N_("The template cannot be read here: {reason}"),
    "template.unknown_variable": N_("The data of this document have no “{name}”."),
    "template.unknown_variable_near": N_(
        "The data of this document have no “{name}”; did you mean “{near}”?"
    ),
    "template.unknown_filter": N_("There is no filter “{name}”."),
    "template.unknown_filter_near": N_("There is no filter “{name}”; did you mean “{near}”?"),
    "template.unknown_test": N_("There is no test “{name}”."),
    "template.unknown_test_near": N_("There is no test “{name}”; did you mean “{near}”?"),
    "template.logo_in_text": N_(
        "The logo is a picture and cannot stand inside text: write “{{{{r municipality.logo }}}}” in a"
        " paragraph of its own."
    ),
    "template.forbidden": N_("Templates may not use “{construct}”: it reaches beyond the document's data."),
    "template.too_many_images": N_("The template has {count} pictures; at most {max} are allowed."),
    "template.image_too_large": N_("The picture {name} is {size} bytes; a picture may have at most {max}."),
    "template.sample_failed": N_("Filling the template with the sample data failed: {reason}"),
    "template.sample_timeout": N_(
        "Filling the template with the sample data took longer than {seconds} seconds, so it was stopped."
    ),
    "template.sample_limit": N_("Filling the template with the sample data needed more memory than allowed."),
    "template.file_missing": N_("Choose the template's DOCX file."),
    "template.trial_expired": N_(
        "The uploaded file is no longer held (after an hour, or after newer uploads): upload it again."
    ),
    "template.version_taken": N_(
        "Another version of this template was saved at the same moment, so this one was not: send it again."
    ),
    "template.render_failed": N_(
        "Version {version} of the municipality's template could not fill this document ({part}, near "
        "“{near}”): {reason}. An administrator corrects the template or rolls it back."
    ),
    "template.no_version": N_(
        "The municipality {municipality} has no version {number} of the template {kind}."
    ),
    "settings.no_version": N_("The municipality {municipality} has no settings version {number}."),
    "settings.logo_type": N_("The logo must be a PNG or JPEG picture."),
    "settings.logo_too_large": N_("The logo is {size} bytes; a logo may have at most {max}."),
    "settings.logo_pixels": N_("The logo may be at most {max} pixels wide and high."),
    "settings.logo_base64": N_("The logo must be sent as base64 text."),
    "settings.clause_code": N_("Clause texts are plain text: “{{{{”, “{{%” and “{{#” may not stand in them."),
    "settings.version_taken": N_(
        "Another settings version was saved at the same moment, so this one was not: send it again."
    ),
    # Output.
    "format.unknown": N_("Unknown format: one of {formats}."),
    "pdf.busy": N_("Every PDF converter is busy: try again in a few seconds."),
    "pdf.unavailable": N_("PDF conversion is not available on this server (LibreOffice is missing)."),
    "pdf.timeout": N_("The PDF conversion took too long and was stopped; try again."),
    "pdf.failed": N_("The PDF converter failed on this document; the DOCX can still be downloaded."),
    # Text.
    "text.empty": N_("May not be empty."),
    "text.too_long": N_("Must be at most {max} characters long."),
    "text.control_character": N_("Contains a control character (code {char}) that a document cannot hold."),
    "text.surrogate": N_("Contains an invalid (unpaired surrogate) character."),
    "text.format_character": N_(
        "Contains an invisible formatting character (code {char}), such as a text direction control, "
        "that could make the text look other than it is."
    ),
    "text.line_break": N_("May not contain line breaks."),
    # Numbers and money.
    "number.special": N_("NaN and infinity are not numbers."),
    "number.not_positive": N_("Must be greater than zero."),
    "number.negative": N_("May not be negative."),
    "number.too_large": N_("Must be at most {max}."),
    "number.too_many_places": N_("May have at most {places} decimal places."),
    "number.step": N_("Must be given in steps of {step}."),
    "number.range": N_("Must be between {min} and {max}."),
    # Dates and periods.
    "date.invalid": N_("Expected a date in the form YYYY-MM-DD, e.g. 2020-08-01."),
    "date.out_of_range": N_("The date must be between {min} and {max}."),
    "period.invalid": N_("Expected a period: an object with start and end, or a month YYYY-MM."),
    "moment.invalid": N_("Expected a moment in ISO 8601 form, e.g. 2020-09-01T08:00:00+03:00."),
    "month.invalid": N_("Expected a calendar month in the form YYYY-MM."),
    "time.invalid": N_("Expected a time of day in the form HH:MM."),
    "period.reversed": N_("The start ({start}) is after the end ({end})."),
    # What a person typed (schemas.human_input): each message says what to type.
    "input.date": N_("Type the date as DD.MM.YYYY., e.g. 15.09.2020."),
    "input.date_order": N_(
        "The order of day and month is unclear: type the date day first, as DD.MM.YYYY., e.g. 15.09.2020."
    ),
    "input.date_year": N_("Type the year with all four digits, as DD.MM.YYYY., e.g. 15.09.2020."),
    "input.date_no_such_day": N_("There is no such day in the calendar: check the day and the month."),
    "input.month": N_("Type the month as MM.YYYY., e.g. 09.2020."),
    "input.number": N_("Type a number with a decimal comma, e.g. 2,5 or 1 234,50."),
    "input.number_separators": N_(
        "Use one decimal separator (a comma) and spaces between thousands, e.g. 1 234,50."
    ),
    "input.number_grouping": N_(
        "Group the digits in threes from the decimal comma (1 234,50) or leave the spaces out."
    ),
    # Identifiers.
    "personal_code.format": N_("A personal code has 11 digits, optionally with a hyphen after the sixth."),
    "personal_code.date": N_(
        "The first six digits of an old-format personal code must be a real date (DDMMYY)."
    ),
    "personal_code.century": N_("The seventh digit of an old-format personal code must be 0, 1 or 2."),
    "personal_code.future": N_("The birth date in the personal code is in the future."),
    "personal_code.checksum": N_("The check digit of the personal code is wrong."),
    "personal_code.new_format": N_("A new-format personal code starts with 3 and a digit 2-9."),
    "registration_number.format": N_("A registration number has 11 digits."),
    "registration_number.checksum": N_("The registration number's check digit is wrong."),
    "registration_number.first_digit": N_("A company registration number starts with a digit 4-9."),
    "iban.format": N_("Not a valid IBAN."),
    "iban.checksum": N_("The IBAN's check digits are wrong."),
    "iban.country": N_("Only Latvian IBANs (LV, 21 characters) are accepted."),
    "email.invalid": N_("Not a valid e-mail address."),
    "phone.invalid": N_("Not a valid phone number (digits, spaces, +, -, parentheses)."),
    # Plan rules.
    "birth_date.required": N_("A new-format personal code carries no birth date: give the birth date."),
    "birth_date.mismatch": N_("The birth date does not match the personal code ({expected})."),
    "representative.required_minor": N_(
        "The client is a minor on {date}: a representative (parent, guardian or foster family) is required."
    ),
    "representative.role_minor": N_(
        "A minor is represented by a parent, guardian (aizbildnis) or foster family, not by a {role}."
    ),
    "representative.required_restricted": N_(
        "The client's legal capacity is restricted: a trustee (aizgādnis) is required."
    ),
    "representative.role_restricted": N_(
        "A person with restricted capacity is represented by a trustee (aizgādnis), not by a {role}."
    ),
    "representative.orphan_court_decision": N_(
        "A trustee needs the orphan's court (bāriņtiesa) decision reference."
    ),
    "legal_capacity.court_ruling": N_("Restricted capacity needs the court ruling's number and date."),
    "target_group.age_child": N_(
        "The client is {age} on {date}: children's services are for persons under 18."
    ),
    "target_group.age_adult": N_(
        "The client is {age} on {date}: this target group is for adults (18 or older)."
    ),
    "review_date.outside_period": N_("The review date must fall inside the plan period ({start} - {end})."),
    "service.unknown_code": N_("Unknown service code {code}: it is not in the service catalogue."),
    "service.unit_mismatch": N_('Service {code} is measured in "{expected}", not "{unit}".'),
    "service.no_tariff": N_("Service {code} has no tariff in force on {date}."),
    "service.price_above_tariff": N_(
        "The unit price {price} is above the tariff {tariff} in force on {date}."
    ),
    "service.outside_period": N_("The service dates must fall inside the plan period ({start} - {end})."),
    "service.wrong_target_group": N_("Service {code} is not provided for the target group {group}."),
    "service.unknown_goal": N_("No short-term goal has the identifier {goal}."),
    "budget.monthly_exceeded": N_(
        "The planned total for {month}, {total}, exceeds the individual monthly budget {budget}."
    ),
    # Projects, references, terms and limits.
    "project.unknown": N_("Unknown project {code}: see the list of projects."),
    "project.outside_window": N_("The dates must fall inside the project's period ({start} - {end})."),
    "reference.after_document": N_("The referenced document must be dated on or before {date}."),
    "service.outside_term": N_("The service dates must fall inside the agreement's term ({start} - {end})."),
    "limit.days_in_month": N_("At most {max} days a month."),
    "limit.aplp_level": N_("With APLP services give the APLP support level: one of {levels}."),
    "limit.aplp_hours": N_("APLP support level {level} allows at most {max} hours a month."),
    "limit.child_care_hours": N_("A child aged {age} may receive at most {max} hours of care a month."),
    "limit.respite_days": N_("Respite care in {year} adds up to {days} days; at most {max} a year."),
    # Delivery.
    "delivery.outside_month": N_("The session must fall inside the act's month ({start} - {end})."),
    "delivery.future": N_("The date {date} is in the future: only delivered services are reported."),
    "delivery.act_before_last_session": N_("The act must be dated on or after its last session ({date})."),
    "delivery.time_reversed": N_("The end time must be after the start time."),
    "delivery.units_required": N_("Give the number of units ({unit})."),
    "delivery.units_time_mismatch": N_("The units do not match the time from start to end ({hours} h)."),
    "delivery.service_not_agreed": N_("Service {code} is not in the agreement."),
    "delivery.outside_agreement": N_("On this date service {code} is not covered by the agreement."),
    "delivery.overlap": N_("The specialist has another session at this time (session {other})."),
    "delivery.duplicate_day": N_("This service is already counted for this day (session {other})."),
    "delivery.above_plan": N_("Service {code}: {actual} delivered, more than the {planned} agreed a month."),
    "signature.recipient": N_("The receipt is signed by {name} (the client or the legal representative)."),
    # Reimbursement.
    "period.month_or_quarter": N_("The period must be a calendar month or a calendar quarter."),
    "reimbursement.unknown_agreement": N_("No accepted agreement has the number {number}."),
    "reimbursement.outside_period": N_("The date must fall inside the request's period ({start} - {end})."),
    "agreement.no_plan_line": N_("The plan has no service line number {index}."),
    "goal.duplicate_id": N_("The goal identifier {goal} is used more than once."),
    "goal.deadline_outside_period": N_("The deadline must fall inside the plan period ({start} - {end})."),
    # Tables.
    "table.unreadable": N_(
        "The file cannot be read as a table: open it in Excel and save it again as XLSX or CSV."
    ),
    "table.unknown_type": N_(
        "The file is neither an XLSX workbook nor a CSV file with the template's headers: use the template."
    ),
    "table.macros": N_("Workbooks with macros are not accepted: save the file as an Excel workbook (.xlsx)."),
    "table.missing_sheet": N_(
        "The workbook has none of the sheets {sheets}: name them as in the input template."
    ),
    "table.missing_column": N_(
        'The column "{column}" is missing: add it to the first row, as in the input template.'
    ),
    "table.duplicate_column": N_('The column "{column}" appears twice in the first row: keep one of them.'),
    "table.too_many_rows": N_("The table has more than {max} rows: send at most {max}."),
    "table.conflicting_value": N_(
        'This differs from the "{column}" of agreement {number} in row {row}: use one value on all its rows.'
    ),
    "table.formula_without_value": N_(
        "The formula here has no calculated value: open the file in Excel, let it calculate, and save it."
    ),
    "table.twice": N_('The table "{sheet}" was sent more than once: send each table once.'),
    # A repeated problem listed once (schemas.problem_groups): what follows its message.
    "problems.repeated_rows": N_("The same in rows {rows} too ({count} in all)."),
    "problems.repeated": N_("The same elsewhere too ({count} in all)."),
    # Packs and jobs.
    "municipality.unknown": N_("The municipality {code} is not configured; an administrator adds it."),
    "municipality.not_yours": N_("You may make packs only for your own municipality ({code})."),
    "municipality.no_project_agreement": N_(
        "The municipality has no agreement with project {project} on file."
    ),
    "pack.no_submissions": N_("No accepted delivery acts for this municipality and period."),
    "pack.lines_twice": N_("Send the delivery lines one way only: in the body, as a file or from the acts."),
    "pack.no_lines": N_("Send the delivery lines: in the body, as a CSV or XLSX file, or from the acts."),
    "job.not_finished": N_("The job has not finished yet ({state})."),
    "job.no_result": N_("The job has no result ({state})."),
    "job.failed_document": N_("The document {document} could not be made: {reason}."),
    "job.interrupted": N_("The job was interrupted {times} times and was stopped."),
    "job.cancelled": N_("The job was cancelled."),
    "job.disk_short": N_(
        "There is not enough free disk space for the pack: it needs about {needed} MiB, {free} MiB are free."
    ),
    "pack.invalid_order": N_("The order has {count} problems; they are listed in errors."),
    "idempotency.conflict": N_("This idempotency key was used for a different pack."),
    "idempotency.invalid": N_("An Idempotency-Key is 1-100 letters, digits, '.', '_', ':' or '-'."),
    "job.queue_unavailable": N_("The job queue cannot be reached; try again later."),
    "pack.order_missing": N_('Send the order as JSON in the multipart field "order", beside the files.'),
    # Case records.
    "municipality.series": N_(
        "The agreement series {series} must hold {{year}} and {{seq}} (or {{seq:03}}) and no other braces."
    ),
    "client.exists": N_("A client with this personal code is already recorded in your municipality."),
    "client.query_short": N_("Type at least {min} letters of the name, or the whole personal code."),
    "client.closed": N_("The case is closed: reopen it first."),
    "client.not_closed": N_("The case is not closed."),
    "client.import_twice": N_("This personal code is in row {row} of the file too: each client once."),
    "client.import_missing": N_('Send the clients as an XLSX or CSV file in the multipart field "file".'),
    "client.import_empty": N_("The file holds no clients: fill at least one row under the headers."),
    "client.import_clash": N_(
        "Someone recorded a client with one of these personal codes meanwhile: send the file again."
    ),
    "client.not_found": N_("The municipality {municipality} has no client {client}."),
    "plan.draft_exists": N_("The plan already has a draft: edit it or approve it."),
    "plan.no_version": N_("The plan has no approved version to start a draft from."),
    "plan.no_draft": N_("The plan has no draft to approve."),
    "plan.other_client": N_("This personal code is not the code of the case's client."),
    "plan.no_such_version": N_("The plan has no version {number}."),
    "plan.superseded": N_("Version {number} is superseded: sign the approved version."),
    "signed.unknown_type": N_("A signed copy is a PDF, an .edoc container or a scan (PNG, JPEG)."),
    "signed.missing": N_('Send the signed copy as a file in the multipart field "file".'),
    "signed.none": N_("This version has no signed copy."),
    "precondition.required": N_(
        "Send the If-Match header with the ETag of what you edited, so that nobody's changes are lost."
    ),
    "precondition.failed": N_(
        "Someone else saved this in the meantime (revision {current}): reload it and make your changes again."
    ),
    "agreement.version_not_current": N_(
        "Version {number} of the plan is not the approved one: make the agreement from the current version."
    ),
    "agreement.ended": N_("The agreement has ended."),
    "agreement.no_such_version": N_("The agreement has no version {number}."),
    "agreement.end_outside": N_("An agreement can end only within its term ({start} - {end})."),
    "act.month_outside": N_("Agreement {number} runs from {start} to {end}: it has no act for this month."),
    "act.agreement_differs": N_("The form says “{form}”, but the stored agreement {number} says “{stored}”."),
    "act.client_differs": N_(
        "The client's personal code in the form is not the one in the stored agreement {number}."
    ),
    "act.service_count": N_(
        "The form's agreement has {form} services; the stored agreement {number} has {stored}."
    ),
    "act.after_end": N_("The agreement ended on {date}: a session after that cannot be reported."),
    "act.unmatched": N_(
        "Agreement {number} is not stored in your municipality: store it first, then accept its acts."
    ),
    "budget.period_exceeded": N_(
        "Accepting this act brings the client's delivered services to {after} € of the period budget"
        " {budget} € ({percent} %): only an administrator can accept it, giving a reason."
    ),
    "agreement.choose_lines": N_("Choose at least one service of the plan to contract."),
    "upload.choose_file": N_("Choose the filled act's file (PDF or DOCX)."),
    "act.rejected": N_("This act was rejected: it cannot be accepted. Ask the provider for a corrected act."),
    "act.accepted": N_("This act is accepted already: it cannot be rejected."),
    "act.reason_missing": N_("Give the reason."),
    "budget.near": N_("The client's delivered services now use {percent} per cent of the period budget."),
    "budget.no_plan": N_("The client has no approved plan for {month}, so the act cannot be counted."),
    # What changed between two versions of a plan.
    "change.period": N_("Plan period: {start_before}–{end_before} → {start}–{end}"),
    "change.review_date": N_("Review date: {before} → {after}"),
    "change.budget_monthly": N_("Monthly budget: {before} → {after} €"),
    "change.budget_period": N_("Budget for the period: {before} → {after} €"),
    "change.support_level": N_("Support level: {before} → {after}"),
    "change.goal_added": N_("Goal {id} added: {text}"),
    "change.goal_removed": N_("Goal {id} removed"),
    "change.goal_changed": N_("Goal {id}: “{before}” → “{after}”"),
    "change.service_added": N_("{code} added: {quantity} {unit} a month from {start}"),
    "change.service_removed": N_("{code} removed"),
    "change.quantity": N_("{code}: {before} → {after} {unit} a month"),
    "change.unit_price": N_("{code}: unit price {before} → {after} €"),
    "change.service_dates": N_("{code}: {start_before}–{end_before} → {start}–{end}"),
    "change.provider": N_("{code}: provider {before} → {after}"),
}


class Problem(str):
    """An error message with a stable ``code``; its ``str`` value is the English text."""

    code: str
    template: str
    params: dict[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Problem:
        template = MESSAGES[code]
        self = super().__new__(cls, template.format(**params))
        self.code = code
        self.template = template
        self.params = params
        return self

    def __reduce__(self):  # keep the code when pickled (multiprocessing, job queues)
        return (_rebuild, (self.code, self.params))


def _rebuild(code: str, params: dict[str, Any]) -> Problem:
    return Problem(code, **params)


def problem(code: str, /, **params: Any) -> Problem:
    """The problem ``code`` with the parameters its message names."""
    return Problem(code, **params)


Path = tuple[str | int, ...]


class ErrorCollector:
    """Collects problems at nested paths and raises them together as one ``ValidationError``.

    Cross-field rules use it so that every broken rule is reported at once.

    >>> errors = ErrorCollector()
    >>> errors.add(("services", 2, "unit"), problem("required"))
    >>> errors.add(("services",), problem("list.too_long", max=5))
    >>> errors.add(("review_date",), problem("required"))
    >>> try:
    ...     errors.raise_if_any()
    ... except ValidationError as exc:
    ...     [(json_pointer(path), message.code) for path, message in flatten(exc.messages)]
    [('/services/2/unit', 'required'), ('/services', 'list.too_long'), ('/review_date', 'required')]
    """

    def __init__(self) -> None:
        self._messages: dict[Any, Any] = {}

    def add(self, path: Iterable[str | int], message: Problem) -> None:
        """Add a problem at ``path``; a place may hold problems of its own and of its parts."""
        node = self._messages
        *parents, leaf = tuple(path)
        for key in parents:
            child = node.setdefault(key, {})
            if isinstance(child, list):  # problems of the place itself go under "_schema"
                child = node[key] = {"_schema": child}
            node = child
        existing = node.setdefault(leaf, [])
        (existing.setdefault("_schema", []) if isinstance(existing, dict) else existing).append(message)

    def __bool__(self) -> bool:
        return bool(self._messages)

    @property
    def messages(self) -> dict[Any, Any]:
        """The problems so far, nested as marshmallow nests them (``{}`` when none)."""
        return self._messages

    def has(self, path: Iterable[str | int]) -> bool:
        """True when a problem was added at ``path`` or below it."""
        node: Any = self._messages
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True

    def raise_if_any(self) -> None:
        if self._messages:
            raise ValidationError(self._messages)


def flatten(messages: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Turn marshmallow's nested messages into ``(path, message)`` pairs, schema errors at the parent.

    >>> flatten({"client": {"name": ["a"]}, "services": {0: {"_schema": ["b"]}}, "_schema": ["c"]})
    [(('client', 'name'), 'a'), (('services', 0), 'b'), ((), 'c')]
    """
    if isinstance(messages, Mapping):
        pairs: list[tuple[Path, str]] = []
        for key, value in messages.items():
            pairs.extend(flatten(value, path if key == "_schema" else (*path, key)))
        return pairs
    if isinstance(messages, str):
        return [(path, messages)]
    return [pair for item in messages for pair in flatten(item, path)]


def json_pointer(path: Path) -> str:
    """RFC 6901 pointer for a path.

    >>> json_pointer(("lines", 17, "units"))
    '/lines/17/units'
    >>> json_pointer(("a/b", "c~d"))
    '/a~1b/c~0d'
    >>> json_pointer(())
    ''
    """
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
