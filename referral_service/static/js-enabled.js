// Loaded first thing in <body>, as a file (the Content-Security-Policy allows no inline script):
// GOV.UK Frontend's styles for components that need JavaScript key off these classes.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '')
