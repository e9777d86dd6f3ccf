// Writes data/bench.parquet: ~50 MB, many row groups, nested columns shaped like Hub
// benchmark data (strings, list<string>, struct with a list, ints), snappy, as DuckDB writes.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const dir = new URL('data/', import.meta.url).pathname;
fs.mkdirSync(dir, { recursive: true });
const rows = Number(process.argv[2] ?? 600000);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run(`COPY (
  SELECT i AS id,
    'Question ' || i || ': ' || md5(i::VARCHAR) || ' ' || md5((i * 7)::VARCHAR) || ' what follows?' AS question,
    [md5((i + 1)::VARCHAR)[1:12], md5((i + 2)::VARCHAR)[1:20], 'option ' || (i % 97), NULL][1:(i % 4) + 1] AS choices,
    (i % 4)::BIGINT AS answer,
    ['math', 'physics', 'law', 'history', 'biology'][i % 5 + 1] AS subject,
    {'source': 'src-' || (i % 1000), 'difficulty': (i % 100) / 10.0,
     'tags': ['t' || (i % 13), 't' || (i % 7)]} AS meta
  FROM range(0, ${rows}) t(i)
) TO '${dir}bench.parquet' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 30720)`);
console.log(`${dir}bench.parquet`, fs.statSync(`${dir}bench.parquet`).size, 'bytes');
