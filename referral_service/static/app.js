// Start every GOV.UK Frontend component on the page (error summary focus, header menu,
// character counts, ...). A module script, so it runs only in browsers GOV.UK Frontend supports.
import { initAll } from '/govuk/govuk-frontend.min.js'

initAll()
