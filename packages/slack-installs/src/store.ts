import { join } from 'node:path';
import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import { decryptToken, encryptToken } from './token-cipher';

/** One workspace the app is installed in, as oauth.v2.access described it. */
export interface Installation {
  teamId: string;
  teamName?: string;
  enterpriseId?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  scopes: string[];
  botToken: string;
  /** Slack user id of who installed it. */
  installedBy?: string;
}

/** An installation without its token: what may be shown and logged. */
export type InstallationInfo = Omit<Installation, 'botToken'> & { installedAt: Date; updatedAt: Date };

interface Row {
  team_id: string;
  team_name: string | null;
  enterprise_id: string | null;
  app_id: string | null;
  bot_user_id: string | null;
  bot_id: string | null;
  scopes: string;
  token_ciphertext: string;
  installed_by: string | null;
  installed_at: Date;
  updated_at: Date;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function info(r: Row): InstallationInfo {
  return {
    teamId: r.team_id,
    teamName: opt(r.team_name),
    enterpriseId: opt(r.enterprise_id),
    appId: opt(r.app_id),
    botUserId: opt(r.bot_user_id),
    botId: opt(r.bot_id),
    scopes: r.scopes === '' ? [] : r.scopes.split(','),
    installedBy: opt(r.installed_by),
    installedAt: r.installed_at,
    updatedAt: r.updated_at,
  };
}

export async function migrateSlackInstalls(pool: Pool): Promise<void> {
  await migrate(pool, 'slack-installs', loadMigrations(join(__dirname, '..', 'migrations')));
}

/**
 * The `slack_installations` table. Tokens are encrypted before they leave the process and decrypted only
 * when a caller asks for one team's token; nothing else in it is secret.
 */
export class InstallationStore {
  constructor(
    private readonly pool: Pool,
    private readonly key: Buffer,
  ) {}

  /** Inserts or replaces the team's installation (a reinstall gets a new token). */
  async save(i: Installation, at: Date): Promise<void> {
    await this.pool.query(
      `INSERT INTO slack_installations
         (team_id, team_name, enterprise_id, app_id, bot_user_id, bot_id, scopes, token_ciphertext, installed_by, installed_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
       ON CONFLICT (team_id) DO UPDATE SET team_name = $2, enterprise_id = $3, app_id = $4, bot_user_id = $5, bot_id = $6,
         scopes = $7, token_ciphertext = $8, installed_by = $9, updated_at = $10`,
      [
        i.teamId,
        i.teamName ?? null,
        i.enterpriseId ?? null,
        i.appId ?? null,
        i.botUserId ?? null,
        i.botId ?? null,
        i.scopes.join(','),
        encryptToken(this.key, i.teamId, i.botToken),
        i.installedBy ?? null,
        at,
      ],
    );
  }

  /** The team's installation with its token decrypted, or undefined when it is not installed. */
  async find(teamId: string): Promise<(InstallationInfo & { botToken: string }) | undefined> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM slack_installations WHERE team_id = $1', [teamId]);
    const r = rows[0];
    if (!r) return undefined;
    return { ...info(r), botToken: decryptToken(this.key, r.team_id, r.token_ciphertext) };
  }

  async list(): Promise<InstallationInfo[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM slack_installations ORDER BY team_id');
    return rows.map(info);
  }

  /**
   * Forgets the team's token (uninstalled, or its tokens revoked). With `notAfter`, an installation made or
   * renewed after that moment is kept: a late redelivery of an old uninstall must not undo a reinstall.
   */
  async remove(teamId: string, notAfter?: Date): Promise<boolean> {
    const { rowCount } = notAfter
      ? await this.pool.query('DELETE FROM slack_installations WHERE team_id = $1 AND updated_at <= $2', [teamId, notAfter])
      : await this.pool.query('DELETE FROM slack_installations WHERE team_id = $1', [teamId]);
    return (rowCount ?? 0) > 0;
  }
}
