/**
 * User data is no place for a secret: anyone allowed ec2:DescribeInstanceAttribute reads it, and
 * the execution history keeps it. These patterns find what is plainly a credential written into
 * the script (formats as their issuers document them), not a variable that holds one, so that
 * `bootstrap.secrets` is the only way in.
 */
export interface EmbeddedCredential {
  /** 1-based line of the user data. */
  line: number;
  what: string;
}

const PATTERNS: { what: string; pattern: RegExp }[] = [
  { what: 'an AWS access key id', pattern: /\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/ },
  // A 40-character literal, not `$VAR`: fetching one at run time and exporting it is fine.
  {
    what: 'an AWS secret access key',
    pattern: /aws_secret_access_key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/i,
  },
  { what: 'a private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/ },
  { what: 'a GitHub token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { what: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  {
    what: 'a Slack webhook URL',
    pattern: /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/,
  },
  // Literal characters only: `Bearer $TOKEN` and `Bearer ${TOKEN}` are variables.
  { what: 'a bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/i },
  { what: 'a JSON web token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];

/** Every line that embeds a credential, with what it looks like (never the value itself). */
export function findEmbeddedCredentials(userData: string): EmbeddedCredential[] {
  const found: EmbeddedCredential[] = [];
  userData.split(/\r\n|\r|\n/).forEach((text, i) => {
    const match = PATTERNS.find(({ pattern }) => pattern.test(text));
    if (match) found.push({ line: i + 1, what: match.what });
  });
  return found;
}

/** The validation message for one finding, at `bootstrap.script` or `bootstrap.file`. */
export function embeddedCredentialMessage(c: EmbeddedCredential): string {
  return `line ${c.line} looks like it embeds ${c.what}: user data is readable by anyone allowed ec2:DescribeInstanceAttribute and kept in the execution history; give secrets with bootstrap.secrets, which the builder fetches at run time`;
}
