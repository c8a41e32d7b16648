// Add/Update ServiceStack Reference with @servicestack/cli against evogate:
//  1. typescript-ref / csharp-ref / dart-ref <baseUrl> into a temp dir;
//  2. the generated dtos.ts compiles with `tsc --strict`;
//  3. a small TypeScript program importing the generated dtos.ts (compiled with tsc to JS)
//     logs in with its Authenticate and calls its ListUsageRecords with @servicestack/client;
//  4. `typescript-ref dtos.ts` updates the file in place after an option was uncommented
//     (IncludeTypes: ListUsageRecords.*), which must round-trip in the new header.
//   node reference.mjs <baseUrl> '{"user","password","accountId"}'
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, run, watchdog } from './lib.mjs';

watchdog(240_000);
const { baseUrl, config: cfg } = parseArgs();
const here = dirname(fileURLToPath(import.meta.url));
const bin = name => join(here, 'node_modules', '.bin', name);
const env = { ...process.env, SERVICESTACK_TELEMETRY_OPTOUT: '1' };
const TSC_FLAGS = ['--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--lib', 'ES2022,DOM', '--skipLibCheck'];

function exec(file, args, cwd, timeout = 60_000) {
    return new Promise(resolve => {
        execFile(file, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            const exitCode = err ? (typeof err.code === 'number' ? err.code : (err.killed ? 'timeout' : String(err.code))) : 0;
            resolve({ exitCode, output: (String(stdout) + String(stderr)).trim().slice(-4000) });
        });
    });
}

function headerLine(text, key) {
    const line = text.split(/\r?\n/).find(l => l.startsWith(key));
    return line === undefined ? null : line.trim();
}

function inspect(path) {
    if (!existsSync(path)) return { exists: false };
    const text = readFileSync(path, 'utf8');
    return {
        exists: true,
        length: text.length,
        hasOptions: text.includes('Options:'),
        baseUrlLine: headerLine(text, 'BaseUrl:'),
        dateLine: headerLine(text, 'Date:'),
        includeTypesLine: headerLine(text, 'IncludeTypes:'),
        commentedIncludeTypes: text.split(/\r?\n/).some(l => l.startsWith('//IncludeTypes:')),
        hasNewBillable: /\bNewBillable\b/.test(text),
        hasListUsageRecords: /\bListUsageRecords\b/.test(text),
        hasUsageRecordInfo: /\bUsageRecordInfo\b/.test(text),
        head: text.slice(0, 600),
    };
}

// Everything but the client comes from the generated dtos.ts (Authenticate is one of the
// ServiceStack types it carries with AddServiceStackTypes). ListUsageRecords is published without
// IReturn<T> (as Evo Voice does), so the program names the response type itself.
const APP_TS = `
import { JsonServiceClient, IReturn } from '@servicestack/client';
import { Authenticate, ListUsageRecords, UsageRecordInfo } from './dtos.js';

// Node's globals, without depending on @types/node
declare const process: { argv: string[]; exit(code: number): never };

async function main(): Promise<void> {
    const [baseUrl, user, password, accountId] = process.argv.slice(2);
    const client = new JsonServiceClient(baseUrl);
    const auth = await client.post(new Authenticate({ provider: 'credentials', userName: user, password, rememberMe: true }));
    const request = new ListUsageRecords({ accountId, startDate: '2024-05-01', endDate: '2024-05-31' });
    const records: UsageRecordInfo[] = await client.get<UsageRecordInfo[]>(request as unknown as IReturn<UsageRecordInfo[]>);
    console.log(JSON.stringify({ userName: auth.userName ?? null, records }));
}

main().catch(e => { console.log(JSON.stringify({ error: e instanceof Error ? e.message : e })); process.exit(1); });
`;

run(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evogate-ref-'));
    const result = { client: 'servicestack-cli', dir };
    try {
        // the generated program resolves @servicestack/client from the pinned install
        symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'), 'dir');
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));

        result.typescriptRef = await exec(bin('typescript-ref'), [baseUrl, 'dtos.ts'], dir);
        result.typescript = inspect(join(dir, 'dtos.ts'));
        result.csharpRef = await exec(bin('csharp-ref'), [baseUrl, 'dtos.cs'], dir);
        result.csharp = inspect(join(dir, 'dtos.cs'));
        result.dartRef = await exec(bin('dart-ref'), [baseUrl, 'dtos.dart'], dir);
        result.dart = inspect(join(dir, 'dtos.dart'));

        if (result.typescript.exists) {
            result.tscCheck = await exec(bin('tsc'), [...TSC_FLAGS, '--noEmit', 'dtos.ts'], dir);

            writeFileSync(join(dir, 'app.ts'), APP_TS);
            result.appCompile = await exec(bin('tsc'), [...TSC_FLAGS, '--outDir', 'out', 'app.ts', 'dtos.ts'], dir);
            if (existsSync(join(dir, 'out', 'app.js'))) {
                const ran = await exec(process.execPath, [join('out', 'app.js'), baseUrl, cfg.user, cfg.password, cfg.accountId], dir);
                result.appRun = { exitCode: ran.exitCode };
                try { result.appRun.result = JSON.parse(ran.output.split('\n').filter(l => l.startsWith('{')).pop()); }
                catch { result.appRun.output = ran.output; }
            }

            // Update in place: uncomment an option and leave a marker the rewrite must drop.
            const before = readFileSync(join(dir, 'dtos.ts'), 'utf8');
            const edited = before.replace(/^\/\/IncludeTypes:.*$/m, 'IncludeTypes: ListUsageRecords.*')
                + '\n// evogate-test-marker: must disappear when the file is regenerated\n';
            result.optionUncommented = edited.includes('\nIncludeTypes: ListUsageRecords.*');
            writeFileSync(join(dir, 'dtos.ts'), edited);
            await new Promise(r => setTimeout(r, 1100)); // let the Date: line move on
            result.updateRef = await exec(bin('typescript-ref'), ['dtos.ts'], dir);
            result.updated = inspect(join(dir, 'dtos.ts'));
            result.updated.markerGone = !readFileSync(join(dir, 'dtos.ts'), 'utf8').includes('evogate-test-marker');
            result.updatedTscCheck = await exec(bin('tsc'), [...TSC_FLAGS, '--noEmit', 'dtos.ts'], dir);
        }
    } finally {
        if (!process.env.EVOGATE_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    }
    return result;
});

