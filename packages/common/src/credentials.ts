/**
 * Credentials in free text, found by their shape: what a command line and its output (`alertbus run`), and what senders
 * wrote into alerts (the history's labels, titles and comments), may carry without a key that says so. Each value is
 * replaced by `[redacted]`; the name, option or scheme before it stays, to say what was there. Linear-time patterns:
 * the text is a sender's.
 */
import { scrubSecrets } from './logger';

/**
 * A name that says its value is a secret: `--password`, `PGPASSWORD`, `--api-key`, `GITHUB_TOKEN`, `PASSPHRASE`, and
 * `GITHUB_PAT`, `DB_PASS`, `--pass`, `MYSQL_PWD` (`pat` and `pass` as a whole part of the name only, so `PATH` and
 * `PASSENGER_ENV` are not ones; `pwd` after another part only, so the working directory's `PWD` is not one). The word
 * ends the name or a part of it: `AWS_SECRET_ACCESS_KEY` is one, `tokenizer_errors`, `max_tokens` and `secretary` are not.
 */
const NAME =
  String.raw`(?:[A-Za-z0-9_-]{0,40}(?:password|passwd|passphrase|token|secret|api[-_]?key|private[-_]?key|credentials?)(?:[_-][A-Za-z0-9_-]{0,40})?(?![A-Za-z0-9])` +
  String.raw`|(?:[A-Za-z0-9_-]{0,40}[_-])?(?:pat|pass)(?:[_-][A-Za-z0-9_-]{0,40})?(?![A-Za-z0-9])` +
  String.raw`|[A-Za-z0-9_-]{0,40}[A-Za-z0-9][_-]pwd(?:[_-][A-Za-z0-9_-]{0,40})?(?![A-Za-z0-9]))`;
/** The rest of a shell word: single-quoted (commandLine writes a ' as '\''), double-quoted, or bare. */
const IN_SINGLE = String.raw`(?:[^'\n]|'\\'')*`;
const IN_DOUBLE = String.raw`(?:[^"\\\n]|\\.)*`;
/**
 * A bare value runs to the next unescaped space: a quote inside it (`ab"cd`) or escaped (`x\"y`, `a\ b`) does not end it.
 * A quote or `;`, `&`, `|` before a space or the end does: it closes what the value was in (`"export K=v"; echo`).
 */
const BARE = String.raw`(?:\\.|[^\s'"\\;&|])(?:\\.|[^\s\\'";&|]|['";&|](?=[^\s'";&|]))*`;
const VALUE = String.raw`(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|${BARE})`;
const NOT_DONE = String.raw`(?!\[redacted\])`;

/** `'--password=two words'`: a whole quoted word naming a secret; its value runs to the closing quote. */
const QUOTED_NAMED_SECRET = [
  new RegExp(String.raw`(')(-{0,2}${NAME}=)${NOT_DONE}${IN_SINGLE}'`, 'gi'),
  new RegExp(String.raw`(")(-{0,2}${NAME}=)${NOT_DONE}${IN_DOUBLE}"`, 'gi'),
];
/** `--password=x`, `TOKEN="x y"`: an option or a variable named as a secret, and its value. */
const NAMED_SECRET = new RegExp(String.raw`(\b${NAME}=)${NOT_DONE}${VALUE}`, 'gi');
/** `--api-key x`, `--token 'x y'`: an option named as a secret, and the value after it. */
const SECRET_OPTION = new RegExp(String.raw`((?:^|\s)--?${NAME}[ \t]+)${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"-][^\s'"]*)`, 'gi');
/** `"password": "x"`, `'api_key':'x'`: a JSON or Python-style key named as a secret, and its value (quoted or not). */
const QUOTED_KEY_SECRET = [
  new RegExp(String.raw`("${NAME}"[ \t]*:[ \t]*)(?!"?\[redacted\])(?:"${IN_DOUBLE}"|[^\s"',}\]]+)`, 'gi'),
  new RegExp(String.raw`('${NAME}'[ \t]*:[ \t]*)(?!'?\[redacted\])(?:'(?:[^'\\\n]|\\.)*'|[^\s"',}\]]+)`, 'gi'),
];
/** `password: x` at a line's start (YAML, `key: value` logs, a list item, a Slack message's `• key: value`): to the line's end. */
const YAML_SECRET = new RegExp(String.raw`^([ \t]*(?:[-*•][ \t]+)?${NAME}[ \t]*:[ \t]*)${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"][^\r\n]*)`, 'gim');
/**
 * `password = x` at a line's start (INI and properties files, with a space beside `=`): the value runs to the line's end
 * (a `#` may be part of it). Without the space it is `NAMED_SECRET`'s, as `DB_PASS=x ./run` is a command line.
 */
const INI_SECRET = new RegExp(String.raw`^([ \t]*${NAME}(?:[ \t]+=[ \t]*|=[ \t]+))${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"][^\r\n]*)`, 'gim');
/** GitHub tokens (`ghp_…`, `gho_…`, `github_pat_…`), whatever names them: their prefix says what they are. */
const GITHUB_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g;
/** A URL's user and password, of any scheme (https, postgres, redis…). */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]{0,31}:\/\/)[^/?\s@]{1,1024}(?:@[^/?\s@]{1,1024}){0,8}@/gi;
/** Slack's incoming webhooks and response URLs: the URL is the credential. */
const SLACK_HOOK_URL = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|`]*/gi;
/** A PEM private key's body (RSA, EC, OpenSSH, PKCS#8), to its END line or, cut, to the text's end. */
const PEM_PRIVATE_KEY = /(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----)(?:[^-]|-(?!----END ))*(?:(-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)|$)/g;

/**
 * An HTTP header where a header stands: a line's start (curl -v prints `> Name: value`), a quote, `-H`/`--header`.
 * Its value runs to the end of the quoted word or line; a scheme (`Basic`, `Bearer`) stays, to say what was there.
 */
const HEADER = new RegExp(
  String.raw`((?:^|['"]|(?:^|\s)(?:-H|--(?:proxy-)?header)(?:=|[ \t]+)['"]?|^[ \t]*[<>*][ \t]+)[A-Za-z0-9-]{1,64}[ \t]*:)` +
    String.raw`(?:([ \t]+(?:(?:basic|bearer|digest|geniekey|token|negotiate|ntlm)[ \t]+)?)(?![A-Za-z0-9-]*[ \t]*\[redacted\])[^'"\r\n]+|${NOT_DONE}[^\s'"]+)`,
  'gim',
);
/** A header name that says it carries a credential: `Authorization`, `X-API-Key`, `Cookie`, `X-Auth-Token`, `X-Vault-Token`. */
const CREDENTIAL_HEADER_NAME = /(?:^|[\s'"=-])(?:authorization|auth|cookie|session|token|secret|password|passwd|api-?key|key|signature)(?:-[A-Za-z0-9-]*)?[ \t]*:$/i;

/** Options that hold a password only for some programs: they are scrubbed after that program's name. */
const PROGRAM_SECRETS: ReadonlyArray<{ program: RegExp; options: readonly RegExp[] }> = [
  {
    // curl -u user:password, --user, --proxy-user, -U: the part after the colon (docker's -u 1000:1000 is not curl's).
    program: /curl/,
    options: [
      new RegExp(String.raw`((?:^|\s)(?:'(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)?|(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)')[^\s:']*:)${NOT_DONE}${IN_SINGLE}(?=')`, 'g'),
      new RegExp(String.raw`((?:^|\s)(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)?[^\s:'"]*:)${NOT_DONE}[^\s'"]+`, 'g'),
    ],
  },
  {
    // mysql -p<password> (attached; `-p` alone prompts), and its relatives (mysqldump, mariadb, mariadb-dump…).
    program: /mysql[a-z]*|mariadb[a-z-]*/,
    options: [new RegExp(String.raw`((?:^|\s)'-p)${NOT_DONE}${IN_SINGLE}(?=')`, 'g'), new RegExp(String.raw`((?:^|\s)-p)${NOT_DONE}[^\s'"]+`, 'g')],
  },
  // sshpass -p password, redis-cli -a password.
  { program: /sshpass/, options: [new RegExp(String.raw`((?:^|\s)-p[ \t]*)${NOT_DONE}${VALUE}`, 'g')] },
  { program: /redis-cli/, options: [new RegExp(String.raw`((?:^|\s)(?:-a|--pass)[ \t]+)${NOT_DONE}${VALUE}`, 'g')] },
  // docker login -p password (and podman's, buildah's, skopeo's).
  { program: /docker|podman|buildah|skopeo/, options: [new RegExp(String.raw`(\blogin\b[^\n]*?(?:^|\s)-p[ \t]+)${NOT_DONE}${VALUE}`, 'g')] },
  // aws configure set aws_secret_access_key VALUE (any setting named as a secret).
  { program: /aws/, options: [new RegExp(String.raw`(\bset[ \t]+(?:[A-Za-z0-9_.-]{0,40}\.)?${NAME}[ \t]+)${NOT_DONE}${VALUE}`, 'gi')] },
];

/** Where `program` is named as a command, compiled once per program (this runs for every text the history shows). */
const AS_COMMAND = new Map<RegExp, RegExp>();
function namedAsCommand(program: RegExp): RegExp {
  let re = AS_COMMAND.get(program);
  if (re === undefined) AS_COMMAND.set(program, (re = new RegExp(String.raw`(?:^|[\s/'"])(?:${program.source})(?=[\s'"]|$)`, 'm')));
  return re;
}

/** The text with `options` scrubbed in what follows the first time `program` is named as a command. */
function afterProgram(text: string, program: RegExp, options: readonly RegExp[]): string {
  const named = namedAsCommand(program).exec(text);
  if (!named) return text;
  const at = named.index + named[0].length;
  return text.slice(0, at) + options.reduce((rest, option) => rest.replace(option, '$1[redacted]'), text.slice(at));
}

/** The quote a value opens with, to keep it around `[redacted]`; none for a bare value. */
const quoteOf = (value: string): string => (value.startsWith('"') || value.startsWith("'") ? value[0]! : '');

/**
 * `text` without the credentials found in it: a `--password=`, a Bearer or Basic header, `curl -u`, `mysql -p…`, a URL's
 * user and password, a private key… (a command line and its output, a label or summary an alert's sender wrote).
 * `slackHookUrls: false` leaves Slack's hook URLs to the caller (the history shows them to admins).
 */
export function redactCredentials(text: string, opts: { slackHookUrls?: boolean } = {}): string {
  let out = scrubSecrets(text)
    .replace(PEM_PRIVATE_KEY, (_all, begin: string, end: string | undefined) => `${begin}\n[redacted]${end ? `\n${end}` : ''}`)
    .replace(SLACK_HOOK_URL, (url) => (opts.slackHookUrls === false ? url : '[redacted]'))
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(GITHUB_TOKEN, '[redacted]')
    .replace(HEADER, (all, head: string, scheme: string | undefined) => (CREDENTIAL_HEADER_NAME.test(head) ? `${head}${scheme ?? ''}[redacted]` : all));
  for (const re of QUOTED_KEY_SECRET) out = out.replace(re, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  out = out.replace(YAML_SECRET, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  out = out.replace(INI_SECRET, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  for (const re of QUOTED_NAMED_SECRET) out = out.replace(re, '$1$2[redacted]$1');
  out = out.replace(NAMED_SECRET, '$1[redacted]').replace(SECRET_OPTION, '$1[redacted]');
  for (const { program, options } of PROGRAM_SECRETS) out = afterProgram(out, program, options);
  return out;
}
