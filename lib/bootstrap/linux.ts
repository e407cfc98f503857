import { createHash } from 'node:crypto';
import {
  CONSOLE_LOG_LINES,
  CONSOLE_LOG_PREFIX,
  CONSOLE_RESULT_PREFIX,
  LOG_TAIL_MAX_CHARS,
  LOG_TAIL_TAG_KEY,
  RESULT_TAG_KEY,
  script,
  WRAPPER_MARKER,
} from './protocol.js';
import type { BootstrapSecret } from './secrets.js';

/**
 * The reporter runs after cloud-init has finished, so it cannot be part of the user data's own run
 * (cloud-init waits for that): the wrapper writes it to a file and starts it detached.
 *
 * It needs nothing beyond a stock Amazon Linux 2023 / Ubuntu image (bash, curl, openssl, coreutils):
 * Ubuntu has no aws CLI, so CreateTags is a SigV4-signed Query API call made with curl. Credentials
 * come from the instance profile via IMDSv2 at run time, never from the user data.
 * Every side effect goes through a function or a PATH command the tests can stub; the AMI_BAKE_*
 * variables redirect paths and endpoints for tests only.
 */
export const LINUX_REPORTER = script`#!/bin/bash
# ami-bake reporter: wait for cloud-init, record the outcome as EC2 tags and on the serial console,
# power off. Usage: reporter.sh shell|cloud-config
set -u
export LC_ALL=C
R=\${AMI_BAKE_ROOT:-}
STATE=$R/var/lib/ami-bake
LOGS=$R/var/log/ami-bake
IMDS=\${AMI_BAKE_IMDS_ENDPOINT:-http://169.254.169.254}
CTYPE='application/x-www-form-urlencoded; charset=utf-8'

ab_log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*"; }

# 0 done, 2 done with recoverable errors, 1 error; no cloud-init counts as done.
ab_cloud_init_rc() {
  command -v cloud-init >/dev/null 2>&1 || { echo 0; return; }
  cloud-init status --wait >/dev/null 2>&1
  echo $?
}

ab_imds_token() {
  curl -sSf --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/latest/api/token"
}
ab_imds() { curl -sSf --max-time 5 -H "X-aws-ec2-metadata-token: $AB_TOKEN" "$IMDS/latest/meta-data/$1"; }

# A string field of IMDS's flat credentials JSON (no jq on stock images).
ab_json() { [[ $2 =~ \"$1\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] && printf '%s' "\${BASH_REMATCH[1]}"; }

# RFC 3986, byte by byte (LC_ALL=C), as SigV4 expects.
ab_urlencode() {
  local s=$1 i c
  for ((i = 0; i < \${#s}; i++)); do
    c=\${s:i:1}
    case $c in [A-Za-z0-9._~-]) printf '%s' "$c" ;; *) printf '%%%02X' "'$c" ;; esac
  done
}

ab_sha256() { openssl dgst -sha256 | awk '{print $NF}'; }
# The key is on openssl's command line; IMDS hands the same credentials to any local process anyway.
ab_hmac() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | awk '{print $NF}'; }

# ab_aws_post SERVICE REGION ENDPOINT CONTENT-TYPE TARGET BODY: POST / signed with SigV4 and the AB_*
# credentials (TARGET, the X-Amz-Target of JSON APIs, may be empty). Prints the response body, a line
# break and the HTTP status; the body never goes to disk (it may hold a secret).
ab_aws_post() {
  local service=$1 region=$2 ep=$3 ctype=$4 target=$5 body=$6 host now day scope signed hdrs creq sts key part sig
  local extra=()
  host=\${ep#*://}
  host=\${host%%/*}
  now=$(date -u +%Y%m%dT%H%M%SZ)
  day=\${now:0:8}
  scope=$day/$region/$service/aws4_request
  signed='content-type;host;x-amz-date;x-amz-security-token'
  hdrs=$(printf 'content-type:%s\nhost:%s\nx-amz-date:%s\nx-amz-security-token:%s' "$ctype" "$host" "$now" "$AB_TK")
  if [ -n "$target" ]; then
    signed+=';x-amz-target'
    hdrs+=$'\n'"x-amz-target:$target"
    extra=(-H "X-Amz-Target: $target")
  fi
  creq=$(printf 'POST\n/\n\n%s\n\n%s\n%s' "$hdrs" "$signed" "$(printf '%s' "$body" | ab_sha256)")
  sts=$(printf 'AWS4-HMAC-SHA256\n%s\n%s\n%s' "$now" "$scope" "$(printf '%s' "$creq" | ab_sha256)")
  key=$(printf 'AWS4%s' "$AB_SK" | od -An -v -tx1 | tr -d ' \n')
  for part in "$day" "$region" "$service" aws4_request; do key=$(ab_hmac "$key" "$part"); done
  sig=$(ab_hmac "$key" "$sts")
  # \${a[@]+...}: bash 4.2 (Amazon Linux 2) calls an empty array unbound under set -u.
  printf '%s' "$body" | curl -sS --max-time 20 -w '\n%{http_code}' \
    -X POST -H "Content-Type: $ctype" -H "X-Amz-Date: $now" -H "X-Amz-Security-Token: $AB_TK" \${extra[@]+"\${extra[@]}"} \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=$AB_AK/$scope, SignedHeaders=$signed, Signature=$sig" \
    --data-binary @- "$ep/"
}

# ab_create_tags REGION INSTANCE-ID KEY VALUE [KEY VALUE]...: the EC2 Query API.
ab_create_tags() {
  local region=$1 id=$2 n=1 body out code
  shift 2
  body="Action=CreateTags&ResourceId.1=$(ab_urlencode "$id")"
  while (($# >= 2)); do
    body+="&Tag.$n.Key=$(ab_urlencode "$1")&Tag.$n.Value=$(ab_urlencode "$2")"
    n=$((n + 1))
    shift 2
  done
  body+='&Version=2016-11-15'
  out=$(ab_aws_post ec2 "$region" "\${AMI_BAKE_EC2_ENDPOINT:-https://ec2.$region.$AB_DOMAIN}" "$CTYPE" '' "$body")
  code=\${out##*$'\n'}
  ab_log "CreateTags: HTTP $code $(printf '%s' "\${out%$'\n'*}" | head -c 300)"
  [ "$code" = 200 ]
}

# ab_credentials: this instance's id, region and domain, and the instance profile's credentials
# from IMDSv2, into AB_*.
ab_credentials() {
  local role creds
  AB_TOKEN=$(ab_imds_token) || return 1
  AB_ID=$(ab_imds instance-id) && AB_REGION=$(ab_imds placement/region) || return 1
  AB_DOMAIN=$(ab_imds services/domain) || AB_DOMAIN=amazonaws.com
  role=$(ab_imds iam/security-credentials/) && role=\${role%%$'\n'*} && [ -n "$role" ] || return 1
  creds=$(ab_imds "iam/security-credentials/$role") || return 1
  AB_AK=$(ab_json AccessKeyId "$creds")
  AB_SK=$(ab_json SecretAccessKey "$creds")
  AB_TK=$(ab_json Token "$creds")
}

# ab_tag_self KEY VALUE...: tags this instance, with the instance profile's credentials.
ab_tag_self() {
  ab_credentials || return 1
  ab_create_tags "$AB_REGION" "$AB_ID" "$@"
}

# Printable ASCII lines: no colour codes or control characters in tags or on the console.
ab_clean() { sed -E 's#\x1b\[[0-9;?]*[ -/]*[@-~]##g' | tr -d '\r' | tr '\t' ' ' | tr -cd '[:print:]\n'; }
ab_tail() { tail -c 4096 "$1" 2>/dev/null | ab_clean | tr '\n' ' ' | sed 's/ *$//' | tail -c ${LOG_TAIL_MAX_CHARS}; }

# GetConsoleOutput returns the serial console: ttyS0 on EC2, else /dev/console.
ab_console() {
  local dev
  for dev in "$R/dev/ttyS0" "$R/dev/console"; do
    [ -w "$dev" ] && { timeout 10 tee -a "$dev" 2>/dev/null; return 0; }
  done
  cat
}

# Nothing of the bootstrap may be baked into the image: our script, logs and state, and cloud-init's
# copy of the user data and its logs (an instance launched from the image runs cloud-init afresh).
ab_remove_traces() {
  rm -rf "$STATE" "$LOGS"
  if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs >/dev/null 2>&1; fi
  return 0
}

ab_poweroff() {
  sync
  if command -v systemctl >/dev/null 2>&1; then systemctl poweroff && return; fi
  shutdown -h now || poweroff
}

ab_main() {
  local mode=\${1:-shell} ci rc log outcome=failure tail attempt
  ab_log "reporter ($mode): waiting for cloud-init"
  ci=$(ab_cloud_init_rc)
  if [ "$mode" = cloud-config ]; then
    rc=$ci
    log=$R/var/log/cloud-init-output.log
    case $ci in 0 | 2) outcome=success ;; esac
  else
    # The script's failure wins; a cloud-init error after a clean script reports cloud-init's code.
    rc=$(cat "$STATE/user-exit-code" 2>/dev/null) || rc=255
    log=$R/var/log/ami-bake/bootstrap.log
    if [ "$rc" = 0 ]; then case $ci in 0 | 2) outcome=success ;; *) rc=$ci ;; esac; fi
  fi
  ab_log "cloud-init=$ci outcome=$outcome exit=$rc"
  tail=$(ab_tail "$log")
  for attempt in 1 2 3 4 5; do
    ab_tag_self '${RESULT_TAG_KEY}' "$outcome;exit=$rc" '${LOG_TAIL_TAG_KEY}' "$tail" && break
    ab_log "tagging failed (attempt $attempt)"
    ((attempt < 5)) && sleep $((attempt * 5))
  done
  {
    # The reporter's own log is removed with the rest; the console keeps it.
    tail -n 20 "$LOGS/reporter.log" 2>/dev/null | ab_clean | awk '{print "ami-bake-reporter: " $0}'
    tail -n ${CONSOLE_LOG_LINES} "$log" 2>/dev/null | ab_clean | awk '{print "${CONSOLE_LOG_PREFIX}" $0}'
    printf '${CONSOLE_RESULT_PREFIX}{"outcome":"%s","exitCode":%d}\n' "$outcome" "$rc"
  } | ab_console
  ab_remove_traces
  ab_poweroff
}

# The wrapper sources this file for the functions (AB_LIBRARY=1) to fetch secrets.
[ "\${AB_LIBRARY:-}" = 1 ] || ab_main "$@"
`;

const REPORTER_DELIMITER = 'AMI_BAKE_REPORTER';
export const USER_SCRIPT_DELIMITER_PREFIX = 'AMI_BAKE_USER_SCRIPT_';

/** Header and reporter shared by both Linux formats; `format` tells the reporter where the outcome comes from. */
function prelude(bakeId: string, format: 'shell' | 'cloud-config'): string {
  return script`#!/bin/bash
# ${WRAPPER_MARKER}
# ami-bake:bake-id=${bakeId}
# ami-bake:format=${format}
# Generated by ami-bake. A detached reporter tags this instance with the bootstrap outcome, writes it
# to the serial console and powers off. AMI_BAKE_* variables are for tests only.
set -u
R=\${AMI_BAKE_ROOT:-}
STATE=$R/var/lib/ami-bake
LOGS=$R/var/log/ami-bake
mkdir -p "$STATE" "$LOGS" && chmod 700 "$STATE" "$LOGS"
# Logs readable by root only: a bootstrap's output may say more than it should.
(umask 077 && : >>"$LOGS/bootstrap.log" && : >>"$LOGS/reporter.log" && chmod 600 "$LOGS"/*.log)
cat >"$STATE/reporter.sh" <<'${REPORTER_DELIMITER}'
${LINUX_REPORTER}${REPORTER_DELIMITER}
# cloud-init waits for this script and its output pipes, the reporter waits for cloud-init: it must
# run in its own session with no inherited descriptors (cloud-final.service has KillMode=process).
ab_detach() {
  if [ "\${AMI_BAKE_FOREGROUND:-}" = 1 ]; then bash "$@" >>"$LOGS/reporter.log" 2>&1; return; fi
  setsid nohup bash "$@" </dev/null >>"$LOGS/reporter.log" 2>&1 &
}
`;
}

/** A heredoc delimiter derived from the script, lengthened until no line of the script can end the heredoc. */
export function userScriptDelimiter(userScript: string): string {
  let delimiter =
    USER_SCRIPT_DELIMITER_PREFIX + createHash('sha256').update(userScript).digest('hex').slice(0, 16);
  while (userScript.includes(delimiter)) delimiter += '_';
  return delimiter;
}

/** A single-quoted bash word: the schema already limits names and paths, this keeps any value inert. */
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Fetches `bootstrap.secrets` with the builder role before the script runs: values reach the script
 * as variables or 0600 files, are replaced by `[redacted]` in everything the script prints (the log,
 * hence the tag and the console, and cloud-init's output), and the files are removed after it.
 * Records travel NUL-separated through a pipe, never through a file.
 */
function secretsBlock(secrets: readonly BootstrapSecret[]): string {
  const fetches = secrets.map((s) => {
    const [kind, target] = s.env !== undefined ? ['env', s.env] : ['file', s.file ?? ''];
    const source =
      s.parameter !== undefined
        ? `ssm "$AB_REGION" ${quote(s.parameter)}`
        : `secretsmanager ${quote(s.secretArn?.split(':')[3] ?? '')} ${quote(s.secretArn ?? '')}`;
    return `  ab_secret ${source} ${kind} ${quote(target)} || exit 1\n`;
  });
  return script`# bootstrap.secrets: only their names are in this user data. Only recipes with secrets
# carry these functions (user data is limited to 16 KB); they use the reporter's, sourced below.
# ab_json_unescape TEXT: the JSON string body TEXT decoded, into AB_VALUE (not printed: a command
# substitution would drop trailing line breaks of the value).
ab_json_unescape() {
  local s=$1 plain c
  AB_VALUE=
  while [ -n "$s" ]; do
    plain=\${s%%\\*}
    AB_VALUE+=$plain
    s=\${s:\${#plain}}
    [ -z "$s" ] && break
    case \${s:1:1} in
      n) AB_VALUE+=$'\n' ;;
      t) AB_VALUE+=$'\t' ;;
      r) AB_VALUE+=$'\r' ;;
      b) AB_VALUE+=$'\b' ;;
      f) AB_VALUE+=$'\f' ;;
      u) LC_ALL=C.UTF-8 printf -v c "\\u\${s:2:4}" && AB_VALUE+=$c && s=\${s:4} ;;
      *) AB_VALUE+=\${s:1:1} ;;
    esac
    s=\${s:2}
  done
}

# ab_secret ssm|secretsmanager REGION ID env|file TARGET: fetches one secret and prints the record
# KIND NUL TARGET NUL VALUE NUL for the wrapper. Errors name the secret, never its value.
ab_secret() {
  local api=$1 region=$2 id=$3 kind=$4 target=$5 out code body re
  if [ "$api" = ssm ]; then
    out=$(ab_aws_post ssm "$region" "\${AMI_BAKE_SSM_ENDPOINT:-https://ssm.$region.$AB_DOMAIN}" \
      'application/x-amz-json-1.1' AmazonSSM.GetParameter "{\"Name\":\"$id\",\"WithDecryption\":true}")
    re='"Value"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)"'
  else
    out=$(ab_aws_post secretsmanager "$region" "\${AMI_BAKE_SECRETSMANAGER_ENDPOINT:-https://secretsmanager.$region.$AB_DOMAIN}" \
      'application/x-amz-json-1.1' secretsmanager.GetSecretValue "{\"SecretId\":\"$id\"}")
    re='"SecretString"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)"'
  fi
  code=\${out##*$'\n'}
  body=\${out%$'\n'*}
  if [ "$code" != 200 ]; then
    ab_log "secret $id: HTTP $code $(printf '%s' "$body" | head -c 300)"
    return 1
  fi
  if ! [[ $body =~ $re ]]; then
    ab_log "secret $id: the answer has no string value"
    return 1
  fi
  ab_json_unescape "\${BASH_REMATCH[1]}"
  printf '%s\0%s\0%s\0' "$kind" "$target" "$AB_VALUE"
}

ab_fetch_secrets() (
  AB_LIBRARY=1 . "$STATE/reporter.sh"
  ab_log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
  ab_credentials || { ab_log "secrets: no credentials from the instance profile"; exit 1; }
${fetches.join('')}  printf 'ok\0-\0-\0'
)
# Every value, and each line of a multi-line one, is replaced wherever the script prints it.
ab_redaction() {
  local rest=$1 line
  [ -n "$rest" ] && ab_redact+=("$rest")
  while [ -n "$rest" ]; do
    line=\${rest%%$'\n'*}
    if [[ $rest == *$'\n'* ]]; then rest=\${rest#*$'\n'}; else rest=; fi
    line=\${line%$'\r'}
    [ -n "$line" ] && ab_redact+=("$line")
  done
}
ab_redact_lines() {
  local line v
  while IFS= read -r line || [ -n "$line" ]; do
    for v in \${ab_redact[@]+"\${ab_redact[@]}"}; do line=\${line//"$v"/[redacted]}; done
    printf '%s\n' "$line"
  done
}
ab_env=() ab_files=() ab_redact=() ab_secrets_ok=
while IFS= read -r -d '' kind && IFS= read -r -d '' target && IFS= read -r -d '' value; do
  case $kind in
    ok) ab_secrets_ok=1; continue ;;
    env) ab_env+=("$target=$value") ;;
    file)
      ab_files+=("$R$target")
      rm -f "$R$target" && (umask 077 && mkdir -p "$(dirname "$R$target")" && printf '%s' "$value" >"$R$target") ;;
  esac
  ab_redaction "$value"
done < <(ab_fetch_secrets 2>>"$LOGS/bootstrap.log")
unset kind target value
ab_run() {
  [ -n "\${ab_env[*]+x}" ] && export "\${ab_env[@]}"
  exec "\${run[@]}"
}
if [ -z "$ab_secrets_ok" ]; then
  echo 'ami-bake: bootstrap.secrets could not be fetched (see above); the script did not run' | tee -a "$LOGS/bootstrap.log"
  rc=1
else
  (ab_run) </dev/null 2>&1 | ab_redact_lines | tee -a "$LOGS/bootstrap.log"
  rc=\${PIPESTATUS[0]}
fi
rm -f \${ab_files[@]+"\${ab_files[@]}"}
unset ab_env ab_redact
`;
}

export function wrapShellScript(
  userScript: string,
  bakeId: string,
  secrets: readonly BootstrapSecret[] = [],
): string {
  const delimiter = userScriptDelimiter(userScript);
  const run =
    secrets.length > 0
      ? secretsBlock(secrets)
      : script`"\${run[@]}" </dev/null 2>&1 | tee -a "$LOGS/bootstrap.log"
rc=\${PIPESTATUS[0]}
`;
  return `${prelude(bakeId, 'shell')}${script`# head -c -1 drops the newline the heredoc adds: the file is the recipe's script byte for byte.
head -c -1 >"$STATE/user-script" <<'${delimiter}'
${userScript}
${delimiter}
chmod 700 "$STATE/user-script"
# A shebang picks the interpreter; anything else is a bash script.
if [ "$(head -c 2 "$STATE/user-script")" = '#!' ]; then run=("$STATE/user-script"); else run=(bash "$STATE/user-script"); fi
`}${run}${script`echo "$rc" >"$STATE/user-exit-code"
rm -f "$STATE/user-script"
ab_detach "$STATE/reporter.sh" shell
exit "$rc"
`}`;
}

/** The reporter part of the cloud-config multipart: cloud-init's own status is the outcome. */
export function cloudConfigReporterPart(bakeId: string): string {
  return `${prelude(bakeId, 'cloud-config')}ab_detach "$STATE/reporter.sh" cloud-config\n`;
}

export function reporterDelimiterIsSafe(): boolean {
  return !LINUX_REPORTER.split('\n').includes(REPORTER_DELIMITER);
}
