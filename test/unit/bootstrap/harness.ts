/**
 * Runs generated Linux user data for real under bash, with stub commands first on PATH standing in
 * for IMDS, EC2, cloud-init and the power button. AMI_BAKE_ROOT moves /var/lib, /var/log and /dev
 * into a temp dir. Real openssl, coreutils, setsid and nohup are used.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { script } from '../../../lib/bootstrap/protocol.js';

export const STUB = {
  imdsToken: 'IMDS-SESSION-TOKEN-1',
  instanceId: 'i-0123456789abcdef0',
  region: 'eu-west-1',
  role: 'ami-bake-builder',
  accessKeyId: 'AKID',
  secretAccessKey: 'wJalr/XUtnFEMI+K7MDENG=bPxRfiCY',
  sessionToken: 'IQoJb3JpZ2luX2Vj/SESSION+TOKEN==',
} as const;

const CURL_STUB = script`#!/bin/bash
# curl stand-in: records each call (argv, stdin), answers IMDSv2, EC2, SSM and Secrets Manager.
n=$(($(ls "$STUB_DIR/curl" | wc -l) + 1))
call="$STUB_DIR/curl/$(printf %03d "$n")"
mkdir -p "$call"
printf '%s\0' "$@" >"$call/argv"
method=GET out= fmt= data= fail= url= headers=()
while (($#)); do
  case $1 in
    -X) method=$2; shift ;;
    -o) out=$2; shift ;;
    -w) fmt=$2; shift ;;
    -H) headers+=("$2"); shift ;;
    --data-binary) data=$2; shift ;;
    --max-time) shift ;;
    --*) ;;
    -*f*) fail=1 ;;
    -*) ;;
    *) url=$1 ;;
  esac
  shift
done
[ "$data" = @- ] && cat >"$call/stdin"
respond() {
  if [ -n "$out" ]; then printf '%s' "$2" >"$out"; else printf '%s' "$2"; fi
  [ -n "$fmt" ] && printf '%b' "\${fmt//'%{http_code}'/$1}"
  [ -n "$fail" ] && [ "$1" -ge 400 ] && exit 22
  exit 0
}
target=
for h in "\${headers[@]}"; do case $h in 'X-Amz-Target: '*) target=\${h#X-Amz-Target: } ;; esac; done
# SSM and Secrets Manager (JSON APIs): the answer for a name is $STUB_DIR/aws/<sha256 of the name>.
json_api() {
  local id= key
  [[ $(cat "$call/stdin") =~ \"(Name|SecretId)\":\"([^\"]*)\" ]] && id=\${BASH_REMATCH[2]}
  key=$(printf '%s' "$id" | sha256sum | cut -c1-64)
  [ -f "$STUB_DIR/aws/$key" ] && respond 200 "$(cat "$STUB_DIR/aws/$key")"
  respond 400 '{"__type":"ParameterNotFound","message":"not found"}'
}
has_token() { local h; for h in "\${headers[@]}"; do [ "$h" = "X-aws-ec2-metadata-token: ${STUB.imdsToken}" ] && return 0; done; return 1; }
case $url in
  */latest/api/token)
    [ "$method" = PUT ] && respond 200 '${STUB.imdsToken}'
    respond 405 '' ;;
  */latest/meta-data/*)
    has_token || respond 401 ''
    case \${url#*/latest/meta-data/} in
      instance-id) respond 200 '${STUB.instanceId}' ;;
      placement/region) respond 200 '${STUB.region}' ;;
      services/domain) respond 200 'amazonaws.com' ;;
      iam/security-credentials/) [ -z "\${STUB_NO_ROLE:-}" ] && respond 200 '${STUB.role}' ;;
      iam/security-credentials/${STUB.role}) respond 200 "$(cat "$STUB_DIR/credentials.json")" ;;
    esac
    respond 404 '' ;;
  *)
    [ -n "$target" ] && json_api
    status=\${STUB_EC2_STATUS:-200}
    [ "$status" = 200 ] && respond 200 '<CreateTagsResponse><return>true</return></CreateTagsResponse>'
    respond "$status" '<Response><Errors><Error><Code>UnauthorizedOperation</Code></Error></Errors></Response>' ;;
esac
`;

/** Stubs that only record their call; `cloud-init status --wait` answers $STUB_CLOUD_INIT_RC. */
const RECORDING_STUBS: Record<string, string> = {
  // What is on disk while the reporter waits for cloud-init (the wrapper has finished by then).
  'cloud-init': `[ "$1 $2" = 'status --wait' ] || exit 0
cp -a "$AMI_BAKE_ROOT" "$STUB_DIR/at-cloud-init"
[ -n "\${STUB_CLOUD_INIT_DELAY:-}" ] && /usr/bin/sleep "$STUB_CLOUD_INIT_DELAY"
exit "\${STUB_CLOUD_INIT_RC:-0}"`,
  systemctl: 'exit $((STUB_SYSTEMCTL_RC))',
  shutdown: 'exit 0',
  poweroff: 'exit 0',
  sync: 'exit 0',
  sleep: 'exit 0',
};

export interface CurlCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  argv: string[];
  stdin?: string;
}

export interface Run {
  dir: string;
  root: string;
  result: SpawnSyncReturns<string>;
  /** `name args` of each recording stub, in call order. */
  calls(): string[];
  curlCalls(): CurlCall[];
  /** The CreateTags calls: every curl call to EC2. */
  ec2Calls(): CurlCall[];
  /** The SSM and Secrets Manager calls (they carry X-Amz-Target). */
  secretCalls(): CurlCall[];
  /** Tags of the last CreateTags call. */
  tags(): Record<string, string>;
  console(): string;
  file(path: string): string;
  /** A file as it was when the reporter asked cloud-init for its status; undefined if absent. */
  fileAtCloudInit(path: string): { text: string; mode: number } | undefined;
  /** Every file left under the fake root after the run, except the stand-in devices. */
  filesLeft(): string[];
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Run the reporter in the foreground (AMI_BAKE_FOREGROUND=1) so the run is finished when bash returns. */
  foreground?: boolean;
  /** Files to create under the fake root before the run. */
  files?: Record<string, string>;
  /** SSM parameter names and secret ARNs with the JSON body their Get call answers. */
  aws?: Record<string, string>;
}

/** GetParameter's answer (WithDecryption) as SSM writes it. */
export function ssmParameter(name: string, value: string): string {
  const arn = `arn:aws:ssm:${STUB.region}:123456789012:parameter${name}`;
  return JSON.stringify({
    Parameter: { ARN: arn, DataType: 'text', Name: name, Type: 'SecureString', Value: value, Version: 3 },
  });
}

/** GetSecretValue's answer as Secrets Manager writes it. */
export function secretValue(arn: string, value: string): string {
  const name = arn.split(':secret:')[1];
  return JSON.stringify({
    ARN: arn,
    Name: name,
    SecretString: value,
    VersionId: 'v1',
    VersionStages: ['AWSCURRENT'],
  });
}

const dirs: string[] = [];

export function cleanupRuns(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function runScript(scriptText: string, options: RunOptions = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-wrapper-'));
  dirs.push(dir);
  const bin = join(dir, 'bin');
  const root = join(dir, 'root');
  const stubs = join(dir, 'stubs');
  for (const d of [bin, join(root, 'dev'), join(stubs, 'curl')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(root, 'dev', 'console'), '');
  for (const [path, text] of Object.entries(options.files ?? {})) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  writeFileSync(
    join(stubs, 'credentials.json'),
    JSON.stringify(
      {
        Code: 'Success',
        Type: 'AWS-HMAC',
        AccessKeyId: STUB.accessKeyId,
        SecretAccessKey: STUB.secretAccessKey,
        Token: STUB.sessionToken,
        Expiration: '2099-01-01T00:00:00Z',
      },
      null,
      2,
    ),
  );
  mkdirSync(join(stubs, 'aws'));
  for (const [id, body] of Object.entries(options.aws ?? {}))
    writeFileSync(join(stubs, 'aws', createHash('sha256').update(id).digest('hex')), body);
  writeExecutable(join(bin, 'curl'), CURL_STUB);
  for (const [name, body] of Object.entries(RECORDING_STUBS)) {
    writeExecutable(join(bin, name), `#!/bin/bash\necho "${name} $*" >>"$STUB_DIR/calls.log"\n${body}\n`);
  }
  const file = join(dir, 'user-data');
  writeFileSync(file, scriptText);
  const result = spawnSync('bash', [file], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      STUB_DIR: stubs,
      AMI_BAKE_ROOT: root,
      ...(options.foreground === false ? {} : { AMI_BAKE_FOREGROUND: '1' }),
      ...options.env,
    },
  });
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const run: Run = {
    dir,
    root,
    result,
    calls: () => read(join(stubs, 'calls.log')).split('\n').filter(Boolean),
    curlCalls: () =>
      readdirSync(join(stubs, 'curl'))
        .sort()
        .map((n) => parseCurlCall(join(stubs, 'curl', n))),
    ec2Calls: () => run.curlCalls().filter((c) => !c.url.includes('/latest/') && !c.headers['x-amz-target']),
    secretCalls: () => run.curlCalls().filter((c) => c.headers['x-amz-target'] !== undefined),
    tags: () => tagsOf(run.ec2Calls().at(-1)?.stdin ?? ''),
    console: () => read(join(root, 'dev', 'console')),
    file: (path: string) => read(join(root, path)),
    fileAtCloudInit: (path: string) => {
      const at = join(stubs, 'at-cloud-init', path);
      return existsSync(at) ? { text: readFileSync(at, 'utf8'), mode: statSync(at).mode & 0o777 } : undefined;
    },
    filesLeft: () =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((p) => !p.startsWith('dev') && statSync(join(root, p)).isFile())
        .sort(),
  };
  return run;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

function parseCurlCall(dir: string): CurlCall {
  const argv = readFileSync(join(dir, 'argv'), 'utf8').split('\0').slice(0, -1);
  const headers: Record<string, string> = {};
  let method = 'GET';
  let url = '';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-H') {
      const h = argv[++i] ?? '';
      const colon = h.indexOf(':');
      headers[h.slice(0, colon).toLowerCase()] = h.slice(colon + 1).trim();
    } else if (arg === '-X') method = argv[++i] ?? '';
    else if (['-o', '-w', '--data-binary', '--max-time'].includes(arg)) i++;
    else if (!arg.startsWith('-')) url = arg;
  }
  const stdinPath = join(dir, 'stdin');
  return {
    url,
    method,
    headers,
    argv,
    ...(existsSync(stdinPath) ? { stdin: readFileSync(stdinPath, 'utf8') } : {}),
  };
}

/** `Tag.N.Key` / `Tag.N.Value` pairs of a CreateTags form body. */
export function tagsOf(body: string): Record<string, string> {
  const form = new URLSearchParams(body);
  const tags: Record<string, string> = {};
  for (let n = 1; form.has(`Tag.${n}.Key`); n++)
    tags[form.get(`Tag.${n}.Key`) ?? ''] = form.get(`Tag.${n}.Value`) ?? '';
  return tags;
}

/** The x-shellscript part of a multipart user data, as cloud-init would run it. */
export function shellPartOf(userData: string): string {
  const boundary = /boundary="([^"]+)"/.exec(userData)?.[1];
  const part = userData.split(`--${boundary}`).find((p) => p.includes('Content-Type: text/x-shellscript'));
  if (!part) throw new Error('no text/x-shellscript part');
  return part.slice(part.indexOf('\n\n') + 2);
}
