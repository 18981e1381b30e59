/** `alertbus notify -t TAG [TEXT]`: tell a tag's channel something (TEXT, or stdin). */
import type { Command } from 'commander';
import { fitNotify, parseLevel, sendNotification } from './notify-client';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerNotify(program: Command): void {
  program
    .command('notify')
    // DESIGN's name for the small sender.
    .alias('send')
    .description('post a notification to a tag\'s channel through ingest (INGEST_URL, default http://127.0.0.1:8080; INGEST_TOKEN); TEXT or stdin')
    .requiredOption('-t, --tag <tag>', 'notification tag (the rules file\'s tags:)')
    .option('-l, --level <level>', 'info | good | warn | crit', parseLevel, 'info')
    .option('--title <title>', 'a title above the text')
    .option('--dedup-key <key>', 'post only the first notification of this tag with this key')
    .option('--sync', 'wait until Slack accepted the post and print its channel and ts')
    .argument('[text...]', 'the text; read from stdin when absent')
    .action(async (words: string[], opts: { tag: string; level: 'info'; title?: string; dedupKey?: string; sync?: boolean }) => {
      let text = words.join(' ');
      if (text === '') {
        if (process.stdin.isTTY) throw new Error('no text: give it as an argument or on stdin');
        text = (await readStdin()).replace(/\s+$/, '');
      }
      if (text.trim() === '') throw new Error('the text is empty: nothing to post');
      const fitted = fitNotify(text, opts.title);
      for (const w of fitted.warnings) process.stderr.write(`alertbus notify: ${w}\n`);
      const answer = await sendNotification({
        tag: opts.tag,
        text: fitted.text,
        level: opts.level,
        ...(fitted.title !== undefined ? { title: fitted.title } : {}),
        ...(opts.dedupKey !== undefined ? { dedupKey: opts.dedupKey } : {}),
        ...(opts.sync ? { sync: true } : {}),
      });
      if (!answer.ok) {
        process.stderr.write(`alertbus notify: ${answer.message}\n`);
        process.exitCode = 1;
        return;
      }
      const b = answer.body;
      const done = b.ts ? `posted to ${b.channel} (ts ${b.ts})` : b.duplicate ? 'not posted: the same tag and dedup key were posted before' : 'accepted';
      process.stdout.write(`${done}, id ${b.id}\n`);
    });
}
