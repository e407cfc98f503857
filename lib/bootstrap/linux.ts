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

# ab_create_tags REGION INSTANCE-ID KEY VALUE [KEY VALUE]...: EC2 Query API, SigV4 with the AB_* credentials.
ab_create_tags() {
  local region=$1 id=$2 n=1 ep host body now day scope signed creq sts key part sig code
  shift 2
  ep=\${AMI_BAKE_EC2_ENDPOINT:-https://ec2.$region.$AB_DOMAIN}
  host=\${ep#*://}
  host=\${host%%/*}
  body="Action=CreateTags&ResourceId.1=$(ab_urlencode "$id")"
  while (($# >= 2)); do
    body+="&Tag.$n.Key=$(ab_urlencode "$1")&Tag.$n.Value=$(ab_urlencode "$2")"
    n=$((n + 1))
    shift 2
  done
  body+='&Version=2016-11-15'
  now=$(date -u +%Y%m%dT%H%M%SZ)
  day=\${now:0:8}
  scope=$day/$region/ec2/aws4_request
  signed='content-type;host;x-amz-date;x-amz-security-token'
  creq=$(printf 'POST\n/\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\nx-amz-security-token:%s\n\n%s\n%s' \
    "$CTYPE" "$host" "$now" "$AB_TK" "$signed" "$(printf '%s' "$body" | ab_sha256)")
  sts=$(printf 'AWS4-HMAC-SHA256\n%s\n%s\n%s' "$now" "$scope" "$(printf '%s' "$creq" | ab_sha256)")
  key=$(printf 'AWS4%s' "$AB_SK" | od -An -v -tx1 | tr -d ' \n')
  for part in "$day" "$region" ec2 aws4_request; do key=$(ab_hmac "$key" "$part"); done
  sig=$(ab_hmac "$key" "$sts")
  code=$(printf '%s' "$body" | curl -sS --max-time 20 -o "$STATE/create-tags.xml" -w '%{http_code}' \
    -X POST -H "Content-Type: $CTYPE" -H "X-Amz-Date: $now" -H "X-Amz-Security-Token: $AB_TK" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=$AB_AK/$scope, SignedHeaders=$signed, Signature=$sig" \
    --data-binary @- "$ep/")
  ab_log "CreateTags: HTTP $code $(head -c 300 "$STATE/create-tags.xml" 2>/dev/null)"
  [ "$code" = 200 ]
}

# ab_tag_self KEY VALUE...: tags this instance, with the instance profile's credentials.
ab_tag_self() {
  local id region role creds
  AB_TOKEN=$(ab_imds_token) || return 1
  id=$(ab_imds instance-id) && region=$(ab_imds placement/region) || return 1
  AB_DOMAIN=$(ab_imds services/domain) || AB_DOMAIN=amazonaws.com
  role=$(ab_imds iam/security-credentials/) && role=\${role%%$'\n'*} && [ -n "$role" ] || return 1
  creds=$(ab_imds "iam/security-credentials/$role") || return 1
  AB_AK=$(ab_json AccessKeyId "$creds")
  AB_SK=$(ab_json SecretAccessKey "$creds")
  AB_TK=$(ab_json Token "$creds")
  ab_create_tags "$region" "$id" "$@"
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
    tail -n ${CONSOLE_LOG_LINES} "$log" 2>/dev/null | ab_clean | awk '{print "${CONSOLE_LOG_PREFIX}" $0}'
    printf '${CONSOLE_RESULT_PREFIX}{"outcome":"%s","exitCode":%d}\n' "$outcome" "$rc"
  } | ab_console
  ab_poweroff
}

ab_main "$@"
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
mkdir -p "$STATE" "$LOGS" && chmod 700 "$STATE"
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

export function wrapShellScript(userScript: string, bakeId: string): string {
  const delimiter = userScriptDelimiter(userScript);
  return `${prelude(bakeId, 'shell')}${script`# head -c -1 drops the newline the heredoc adds: the file is the recipe's script byte for byte.
head -c -1 >"$STATE/user-script" <<'${delimiter}'
${userScript}
${delimiter}
chmod 700 "$STATE/user-script"
# A shebang picks the interpreter; anything else is a bash script.
if [ "$(head -c 2 "$STATE/user-script")" = '#!' ]; then run=("$STATE/user-script"); else run=(bash "$STATE/user-script"); fi
"\${run[@]}" </dev/null 2>&1 | tee -a "$LOGS/bootstrap.log"
rc=\${PIPESTATUS[0]}
echo "$rc" >"$STATE/user-exit-code"
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
