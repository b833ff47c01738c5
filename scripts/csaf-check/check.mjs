// Validates CSAF 2.0 documents with the BSI reference validator library
// (@secvisogram/csaf-validator-lib, pinned in package.json beside this file): the strict official
// JSON schema and every mandatory test (section 6.1 of the CSAF 2.0 standard), i.e. the library's
// `basic.js` preset, run through `validateStrict` so an unknown test is an error, not a skip.
//
// Usage: node check.mjs NODE_DIR FILE...   (NODE_DIR holds node_modules; scripts/check-csaf sets it)
// Exit 0 when every file passes; 1 when any fails (each error printed with its test and path);
// 2 when a file cannot be read or parsed.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [nodeDir, ...files] = process.argv.slice(2)
if (!nodeDir || files.length === 0) {
  console.error('usage: check.mjs NODE_DIR FILE...')
  process.exit(2)
}
const lib = join(nodeDir, 'node_modules', '@secvisogram', 'csaf-validator-lib')
const basic = await import(pathToFileURL(join(lib, 'basic.js')).href)
const { default: validateStrict } = await import(pathToFileURL(join(lib, 'validateStrict.js')).href)
const tests = Object.values(basic)

let failed = 0
for (const file of files) {
  let document
  try {
    document = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    console.error(`${file}: cannot read or parse: ${error.message}`)
    process.exit(2)
  }
  const result = await validateStrict(tests, document)
  if (result.isValid) {
    console.log(`${file}: ok (schema + ${tests.length - 1} mandatory tests)`)
    continue
  }
  failed += 1
  for (const test of result.tests) {
    for (const error of test.errors ?? []) {
      console.log(`${file}: ${test.name}: ${error.instancePath || '/'}: ${error.message}`)
    }
  }
}
process.exit(failed === 0 ? 0 : 1)
