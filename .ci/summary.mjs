// Turns vitest's JSON report into the one closing line CI reads: `N passed, N failed[, N skipped]`.
// Failed lint/typecheck steps and test files that failed to load count as failures too.
import { existsSync, readFileSync } from 'node:fs'

const [reportPath, checksFailedArg = '0', testStatusArg = '0'] = process.argv.slice(2)
const checksFailed = Number(checksFailedArg)
const testStatus = Number(testStatusArg)

let passed = 0
let failed = checksFailed
let skipped = 0
if (reportPath && existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'))
  passed = report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // A file that fails to import has no test results but a failed status.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1
  }
} else {
  console.error(`no vitest report at ${reportPath}`)
}
if (testStatus !== 0 && failed === 0) failed = 1

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 ? 1 : 0)
