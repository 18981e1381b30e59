/**
 * Credentials in free text, found by their shape: what a command line and its output (`alertbus run`), and what senders
 * wrote into alerts (the history's labels, titles and comments; the router's Slack messages and pager alerts), may carry
 * without a key that says so. Each value is
 * replaced by `[redacted]`; the name, option or scheme before it stays, to say what was there. Linear-time patterns:
 * the text is a sender's.
 */

/**
 * The tokens any text may hold, whatever it is: a `GenieKey` or `Bearer` header's value, Slack's tokens (`xoxb-…`,
 * `xapp-…`). What the logger scrubs from every message, and where redactCredentials starts. This module imports
 * nothing, so the router's pure core can share it (`@alertbus/common/src/credentials`).
 */
export function scrubTokenShapes(text: string): string {
  return text
    .replace(/(GenieKey\s+)[^\s"']+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[^\s"']+/gi, '$1[redacted]')
    .replace(/xox[abposr]-[A-Za-z0-9-]+/g, '[redacted]')
    .replace(/xapp-[A-Za-z0-9-]+/g, '[redacted]');
}

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
/**
 * A key that says its value is a credential, as the history and the router read one (a label, a JSON key, a query
 * parameter, a header, a `name: value`). Keys are compared without case, `_`, `-` or `.` (`routing_key`, `routingKey`
 * and `Routing-Key` are one key); the value of a key that only starts with a secret's word (`secret_name`, `token_type`,
 * `api_key_id`, `password_policy`) is not one, and is read as text.
 */
export const normKey = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Keys that are a credential as they stand. */
const CREDENTIAL_KEYS = new Set(['authorization', 'proxyauthorization', 'cookie', 'setcookie', 'dsn', 'pass', 'pwd']);
/** Endings that make a key a credential: `db_password`, `x-api-key`, `aws_secret_access_key`, `geniekey`. */
const CREDENTIAL_SUFFIXES = [
  'token', 'secret', 'password', 'passwd', 'passphrase', 'apikey', 'signature', 'geniekey',
  'privatekey', 'accesskey', 'secretkey', 'routingkey', 'integrationkey', 'credential', 'credentials',
];
/** `pass`, `pwd` and `pat` as the last part of a longer key (`DB_PASS`, `mysqlPwd`, `GITHUB_PAT`); `bypass` and `compass` are words. */
const LAST_PART_CREDENTIAL = /(?:[^A-Za-z0-9](?:[Pp](?:ass|wd|at)|P(?:ASS|WD|AT))|[a-z0-9]P(?:ass|wd|at|ASS|WD|AT))$/;
/** Keys already classified: they repeat from alert to alert and event to event. */
const credentialKeys = new Map<string, boolean>();

export function isCredentialKey(key: string): boolean {
  let credential = credentialKeys.get(key);
  if (credential === undefined) {
    const k = normKey(key);
    credential = CREDENTIAL_KEYS.has(k) || CREDENTIAL_SUFFIXES.some((s) => k.endsWith(s)) || LAST_PART_CREDENTIAL.test(key);
    if (key.length <= 200) {
      if (credentialKeys.size >= 10_000) credentialKeys.clear();
      credentialKeys.set(key, credential);
    }
  }
  return credential;
}

/**
 * A URL in text, of any scheme (https, postgres, redis, amqp…), up to where a URL cannot go on (bounded, so a long one
 * is taken in pieces, never backtracked over; a `|` ends it, as in Slack's `<url|title>`).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s"'<>|`]{1,4096}/gi;
/** The user info of a URL (`user:password@`), which may be all the credential a webhook or a database needs. */
const URL_USERINFO_AT_START = /^([a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#@]{1,1024}@/i;
/** A query parameter, its name bounded. */
const QUERY_PARAM = /([?&])([^=&#]{1,100})=([^&#]*)/g;
/** Query parameters that carry a credential besides the keys above (`?key=…`, Azure's `?sig=…`, OAuth's `?code=…`). */
const CREDENTIAL_PARAMS = new Set(['key', 'sig', 'code', 'auth', 'pass', 'pwd', 'credential', 'credentials']);

/** A URL's credentials hidden: its user info, and the values of query parameters named as credentials. */
function redactUrl(url: string): string {
  const bare = url.replace(URL_USERINFO_AT_START, '$1[redacted]@');
  if (!bare.includes('?')) return bare;
  return bare.replace(QUERY_PARAM, (whole, sep: string, name: string) =>
    isCredentialKey(name) || CREDENTIAL_PARAMS.has(normKey(name)) ? `${sep}${name}=[redacted]` : whole,
  );
}

/** `--password=x`, `TOKEN="x y"`: an option or a variable named as a secret, and its value. */
const NAMED_SECRET = new RegExp(String.raw`(\b${NAME}=)${NOT_DONE}${VALUE}`, 'gi');
/** `--api-key x`, `--token 'x y'`: an option named as a secret, and the value after it. */
const SECRET_OPTION = new RegExp(String.raw`((?:^|\s)--?${NAME}[ \t]+)${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"-][^\s'"]*)`, 'gi');

/** The schemes an `Authorization` value starts with; they stay, to say what was there. */
const SCHEMES = String.raw`(?:basic|bearer|digest|geniekey|token|negotiate|ntlm)`;
const SCHEME = new RegExp(String.raw`^${SCHEMES}[ \t]+`, 'i');
const SCHEME_WORD = new RegExp(String.raw`^${SCHEMES}$`, 'i');
/** A value already redacted (by a shape read before), its scheme or quote kept. */
const ALREADY_REDACTED = new RegExp(String.raw`^(?:${SCHEMES}[ \t]+)?["']?\[redacted\]`, 'i');
/**
 * A word of prose or a bare value: to the next space; a quote inside it (`ab"cd`) or escaped (`ab\"cd`) does not end it,
 * one before a space or the end closes the quoted text it was in (`"token: abc123XYZ789"`).
 */
const WORD = String.raw`(?:\\.|[^\s'"\\])(?:\\.|[^\s'"\\]|['"](?=[^\s'"])){0,4095}`;
/** A value's first word, quoted whole or bare. */
const FIRST_WORD = new RegExp(String.raw`^(?:"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|${WORD})`);
/** What may follow a config value on its line: spaces, and a `# comment`. */
const ONLY_COMMENT = /^(?:[ \t]+#.*)?[ \t]*$/;
/** Punctuation that ends the sentence a bare value is in (`token: abc123XYZ789.`), not the value. */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;
/**
 * Whether a word said to be a secret looks like one rather than like prose: at least 8 characters, and a digit, or a
 * symbol other than `-`, `'`, `/`, `_`, `.` and `:` (`+`, `=`, `!`, `@`…; a space is not one), or a capital after a small
 * letter (`hunter2hunter`, `s3cr3t-pw`, `Pa$sword`, `CorrectHorse`); `expired`, `re-issued`, `prod/db-credentials` and
 * `fetch_from_vault` are none.
 */
function credentialLike(word: string): boolean {
  if (word.length < 8) return false;
  return /[0-9]|[^\p{L}\p{N}\s'/_.:-]|\p{Ll}\p{Lu}/u.test(word);
}
/** A bare word without the punctuation that ends its sentence, or a quoted word's inside. */
const wordItself = (word: string): string => (quoteOf(word) ? word.slice(1, -1) : word.replace(TRAILING_PUNCTUATION, ''));

/**
 * A credential's value after its name where a line (or quoted text) starts (`password: x`, `password = x`,
 * `Authorization: x`), to the line's end: redacted when it looks like a credential, not prose. A scheme and a token
 * (`Token abcdef0123456789`): all after the scheme. A single word, maybe with a `# comment` after it, as a config file
 * writes it: whatever it looks like. A first word that looks like a credential: that word. Else (`token: expired for 3
 * service accounts`, `Authorization: denied for user x`) as written. `whole` takes every value, as a command's output,
 * made of config files and logs, is read.
 */
function shownLineValue(value: string, whole: boolean): string {
  if (value === '' || ALREADY_REDACTED.test(value)) return value;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  const rest = value.slice(scheme.length);
  const first = FIRST_WORD.exec(rest)?.[0] ?? '';
  if (first === '') return value;
  const after = rest.slice(first.length);
  const quote = quoteOf(first);
  const redacted = quote ? `${scheme}${quote}[redacted]${quote}${after}` : `${scheme}[redacted]`;
  if (whole || ONLY_COMMENT.test(after)) return redacted;
  const word = wordItself(first);
  if (!credentialLike(word)) return value;
  if (scheme) return redacted;
  return `${quote}[redacted]${quote}${first.slice(quote.length + word.length + quote.length)}${after}`;
}

/**
 * `password: x` or `Authorization: x` at a line's start (YAML, `key: value` logs, a list item, a Slack message's
 * `• key: value`), `password = x` as INI and properties files write it (with a space beside `=`; without, it is
 * `NAMED_SECRET`'s, as `DB_PASS=x ./run` is a command line): the key classified by isCredentialKey, the value by shownLineValue.
 */
const LINE_KEY = /^([ \t]*(?:[-*•][ \t]+)?)([A-Za-z0-9_.-]{1,64})([ \t]*:[ \t]*|[ \t]+=[ \t]*|=[ \t]+)([^\r\n]*)/gm;
/**
 * `"Authorization: Basic …"`, `'password: x'`: the same in quoted text, to its closing quote. The blanks after the `:`
 * are the separator's only (`(?![ \t])`): were they the value's too, a quote never closed would have every split of a
 * long run of them tried, in time growing with the square of its length.
 */
const QUOTED_KEY_LINE = [/(")([A-Za-z0-9_.-]{1,64})([ \t]*:[ \t]*)(?![ \t])([^"\r\n]*)(?=")/g, /(')([A-Za-z0-9_.-]{1,64})([ \t]*:[ \t]*)(?![ \t])([^'\r\n]*)(?=')/g];
/**
 * `"password": "x"`, `'api_key':'x'`, `"Authorization": "Token x"`: a JSON or Python-style key classified as a
 * credential (isCredentialKey), and its value, quoted or not, whole (a scheme stays).
 */
const QUOTED_KEY_SECRET = [
  new RegExp(String.raw`("([A-Za-z0-9_.-]{1,64})"[ \t]*:[ \t]*)(?!"?\[redacted\])("${IN_DOUBLE}"|[^\s"',}\]]+)`, 'g'),
  new RegExp(String.raw`('([A-Za-z0-9_.-]{1,64})'[ \t]*:[ \t]*)(?!'?\[redacted\])('(?:[^'\\\n]|\\.)*'|[^\s"',}\]]+)`, 'g'),
];
/**
 * `login failed, token: abc123XYZ789 for user x`, `token = …`: a credential's key in the middle of a line and the one
 * word after it (quoted or not, after a scheme or not), when that word looks like a credential (credentialLike).
 * `token: expired`, `password: incorrect` and `k8s secret: prod/db-credentials` are prose about one, and stay.
 */
const INLINE_HEAD = String.raw`(\b([A-Za-z0-9_.-]{1,64})(?:[ \t]*:[ \t]*|[ \t]+=[ \t]+)(?:${SCHEMES}[ \t]+)?)${NOT_DONE}`;
const INLINE_VALUE = String.raw`"[^"\r\n]{1,4096}"|'[^'\r\n]{1,4096}'|${WORD}`;
/** The whole of it, key and value, read at one place (sticky). */
const INLINE_SECRET = new RegExp(String.raw`${INLINE_HEAD}(${INLINE_VALUE})`, 'iy');
/**
 * Where INLINE_SECRET matches, without reading the value: a look-ahead at its first character (a bare word's, or a quoted
 * one's to its closing quote) stands for the value, so the key and its head are those INLINE_SECRET takes there. A key
 * that is not a credential's (nearly every one) costs no read of the up to 4,096 characters after it: `a:a:a:…` read each
 * one's value again, about 24 µs a character.
 */
const INLINE_KEY = new RegExp(String.raw`${INLINE_HEAD}(?="[^"\r\n]{1,4096}"|'[^'\r\n]{1,4096}'|\\.|[^\s'"\\])`, 'gi');
/**
 * INLINE_SECRET's words redacted. A value kept is not passed over: it may itself be a credential's key (`retry: token: x`),
 * so the search goes on right after the key kept.
 */
function redactInline(text: string): string {
  let out = '';
  let done = 0;
  INLINE_KEY.lastIndex = 0;
  // Each match leaves INLINE_KEY right after its head (the look-ahead takes nothing): where a kept value is read again.
  for (let m = INLINE_KEY.exec(text); m !== null; m = INLINE_KEY.exec(text)) {
    if (!isCredentialKey(m[2]!)) continue;
    INLINE_SECRET.lastIndex = m.index;
    const full = INLINE_SECRET.exec(text);
    if (full === null) continue;
    const head = full[1]!;
    const value = full[3]!;
    const word = wordItself(value);
    if (!credentialLike(word) || SCHEME_WORD.test(word)) {
      INLINE_KEY.lastIndex = m.index + head.length;
      continue;
    }
    const quote = quoteOf(value);
    out += `${text.slice(done, m.index)}${head}${quote}[redacted]${quote}`;
    done = m.index + head.length + quote.length + word.length + quote.length;
    INLINE_KEY.lastIndex = INLINE_SECRET.lastIndex;
  }
  return done === 0 ? text : out + text.slice(done);
}
/** `Basic <base64 of user:password>` anywhere in text (`upstream said Basic dXNlcjpodW50ZXIy`); `Basic checks` is prose. */
const BASIC_AUTH = /(\bBasic[ \t]+)(?!\[redacted\])([A-Za-z0-9+/=]{8,4096})(?![A-Za-z0-9+/=])/gi;
/** GitHub tokens (`ghp_…`, `gho_…`, `github_pat_…`), whatever names them: their prefix says what they are. */
const GITHUB_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g;
/**
 * Other services' tokens whose prefix says what they are, whatever names them: Stripe's secret and restricted keys
 * (`sk_live_…`, `sk_test_…`, `rk_live_…`), AWS access key ids (`AKIA…`), GitLab's personal access tokens (`glpat-…`),
 * npm's (`npm_…`, 36 characters after it), Google API keys (`AIza…`, 39 in all). Slack's (`xoxb-…`, `xapp-…`) are
 * scrubTokenShapes'. Like the JWT's below, a match starts only where a run of token characters does, so a long run
 * (`glpat-glpat-…`) is read once, not once from each prefix inside it.
 */
const PREFIXED_TOKEN =
  /(?<![A-Za-z0-9_-])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,255}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{20,255}(?:\.[A-Za-z0-9_-]{1,64}){0,4}|npm_[A-Za-z0-9]{36}|AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g;
/** A JSON Web Token: base64url header and payload (both JSON objects, so `eyJ…`), then its signature (none when unsigned). */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,1024}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,4096}/g;
/** A URL's user and password, of any scheme (https, postgres, redis…). */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]{0,31}:\/\/)[^/?\s@]{1,1024}(?:@[^/?\s@]{1,1024}){0,8}@/gi;
/** Slack's incoming webhooks and response URLs: the URL is the credential. */
const SLACK_HOOK_URL = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|`]*/gi;
/** A PEM private key's body (RSA, EC, OpenSSH, PKCS#8), to its END line or, cut, to the text's end. */
const PEM_PRIVATE_KEY = /(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----)(?:[^-]|-(?!----END ))*(?:(-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)|$)/g;

/**
 * An HTTP header where only a header stands: after `-H`/`--header` (named by CREDENTIAL_HEADER_NAME), or where `curl -v`
 * prints one (`> Name: value`, `< Name: value`; a credential's key by isCredentialKey, as a quote in Slack starts with `>`
 * too). Its value runs to the end of the quoted word or line, whatever it says; a scheme (`Basic`, `Bearer`) stays, to
 * say what was there. Elsewhere a header is read as any `name: value` (LINE_KEY, QUOTED_KEY_LINE).
 */
const EXPLICIT_HEADER = new RegExp(
  String.raw`((?:(?:^|\s)(?:-H|--(?:proxy-)?header)(?:=|[ \t]+)['"]?|^[ \t]*([<>])[ \t]+)([A-Za-z0-9-]{1,64})[ \t]*:)` +
    String.raw`(?:([ \t]+(?:${SCHEMES}[ \t]+)?)(?![A-Za-z0-9-]*[ \t]*\[redacted\])[^'"\r\n]+|${NOT_DONE}[^\s'"]+)`,
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
  // docker login -p password (and podman's, buildah's, skopeo's); -p within 200 characters, so a run of `login` is read once.
  { program: /docker|podman|buildah|skopeo/, options: [new RegExp(String.raw`(\blogin\b[^\n]{0,200}?(?:^|\s)-p[ \t]+)${NOT_DONE}${VALUE}`, 'g')] },
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

/**
 * A cheap first look: most text holds nothing redactCredentials replaces (a name, option, scheme or program that comes
 * before a credential, a token's prefix, a key's PEM header, a URL). False means there is nothing to redact; true only
 * that there may be (`path`, `monkey` and `passenger` say true).
 */
const MAYBE_CREDENTIAL =
  /xox[a-z]-|xapp-|gh[pousr]_|github_pat|[sr]k_(?:live|test)_|akia|glpat-|npm_|aiza|eyj|bearer|basic\s|geniekey|hooks\.slack|pass|pwd|token|secret|key|auth|cookie|session|signature|credential|pat|private|dsn|:\/\/|(?:^|\s)'?-[pua]|--(?:proxy-)?user|sshpass|redis-cli/i;

export function mayHoldCredentials(text: string): boolean {
  return MAYBE_CREDENTIAL.test(text);
}

export interface RedactOptions {
  /** False leaves Slack's hook URLs to the caller (the history shows them to admins). */
  slackHookUrls?: boolean;
  /**
   * True takes every value after a credential's key at a line's start, whatever it says: a command's output
   * (`alertbus run`) is config files and logs, where `password: two words` is a password, not prose.
   */
  wholeValues?: boolean;
}

/**
 * What senders wrote, as the router's Slack messages and pages and the history's API show it: `text` through
 * redactCredentials when the first look finds something it may replace; else `text` itself, at little cost.
 */
export function redactCredentialsIfAny(text: string, opts: RedactOptions = {}): string {
  return MAYBE_CREDENTIAL.test(text) ? redactCredentials(text, opts) : text;
}

const SECRET_NAME = new RegExp(String.raw`^-{0,2}${NAME}$`, 'i');
/** Names already seen, and whether they say their value is a secret: keys (labels, details) repeat from alert to alert. */
const secretNames = new Map<string, boolean>();

/**
 * Whether a key or variable name says its value is a secret, as the shapes above read one (`db_password`,
 * `API_TOKEN`, `github_pat`; not `tokenizer`, `path`, `passenger_env`): its value is a credential whatever it looks like.
 */
export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = name.length <= 200 && SECRET_NAME.test(name);
    if (secretNames.size >= 10_000) secretNames.clear();
    secretNames.set(name, secret);
  }
  return secret;
}

/** The quote a value opens with, to keep it around `[redacted]`; none for a bare value. */
const quoteOf = (value: string): string => (value.startsWith('"') || value.startsWith("'") ? value[0]! : '');

/**
 * `text` without the credentials found in it: a `--password=`, a Bearer or Basic header, `curl -u`, `mysql -p…`, a URL's
 * user and password and credential query parameters, a private key… (a command line and its output, a label or summary
 * an alert's sender wrote).
 */
export function redactCredentials(text: string, opts: RedactOptions = {}): string {
  let out = text;
  // A URL's query parameters first, one by one, so that none is taken whole as a `token=` value.
  if (out.includes('://') && (out.includes('@') || out.includes('?'))) out = out.replace(URL_IN_TEXT, redactUrl);
  out = scrubTokenShapes(out)
    .replace(PEM_PRIVATE_KEY, (_all, begin: string, end: string | undefined) => `${begin}\n[redacted]${end ? `\n${end}` : ''}`)
    .replace(SLACK_HOOK_URL, (url) => (opts.slackHookUrls === false ? url : '[redacted]'))
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(GITHUB_TOKEN, '[redacted]')
    .replace(PREFIXED_TOKEN, '[redacted]')
    .replace(JWT, '[redacted]')
    .replace(BASIC_AUTH, (all, head: string, token: string) => (credentialLike(token) ? `${head}[redacted]` : all))
    .replace(EXPLICIT_HEADER, (all, head: string, marker: string | undefined, name: string, scheme: string | undefined) =>
      (marker ? isCredentialKey(name) : CREDENTIAL_HEADER_NAME.test(head)) ? `${head}${scheme ?? ''}[redacted]` : all,
    );
  for (const re of QUOTED_KEY_SECRET) {
    out = out.replace(re, (all, head: string, key: string, value: string) => {
      if (!isCredentialKey(key)) return all;
      const quote = quoteOf(value);
      const scheme = quote ? (SCHEME.exec(value.slice(1))?.[0] ?? '') : '';
      return `${head}${quote}${scheme}[redacted]${quote}`;
    });
  }
  const whole = opts.wholeValues === true;
  const keyLine = (all: string, lead: string, key: string, sep: string, value: string) =>
    isCredentialKey(key) ? `${lead}${key}${sep}${shownLineValue(value, whole)}` : all;
  out = out.replace(LINE_KEY, keyLine);
  for (const re of QUOTED_KEY_LINE) out = out.replace(re, keyLine);
  out = redactInline(out);
  for (const re of QUOTED_NAMED_SECRET) out = out.replace(re, '$1$2[redacted]$1');
  out = out.replace(NAMED_SECRET, '$1[redacted]').replace(SECRET_OPTION, '$1[redacted]');
  for (const { program, options } of PROGRAM_SECRETS) out = afterProgram(out, program, options);
  return out;
}
