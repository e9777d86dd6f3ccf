// The DuckDB side: reads the same file and writes every row as JSON Lines (what
// `retort data dump` does), timing it in-process. Prints seconds.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, outFile] = process.argv.slice(2);
const db = await (await DuckDBInstance.create(':memory:', { threads: process.env.DUCKDB_THREADS ?? '1' })).connect();
const t0 = performance.now();
await db.run(`COPY (SELECT * FROM read_parquet('${file}')) TO '${outFile}' (FORMAT json)`);
const t1 = performance.now();
console.log(((t1 - t0) / 1000).toFixed(3));
