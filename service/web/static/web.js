// A few enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // After a refused form, put the focus on the error summary so that it is read out first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
});
