/**
 * Runs before each test file: gives the file its own topic prefix and its own database, so files running
 * in parallel on the one shared broker and Postgres server never see each other's records or rows.
 */
import { randomBytes } from 'node:crypto';

const tag = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
process.env.KAFKA_TOPIC_PREFIX = `${tag}.`;
const base = new URL(process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
base.pathname = `/alertbus_test_${tag}`;
process.env.DATABASE_URL = base.toString();
process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'silent';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
jest.setTimeout(120_000);
