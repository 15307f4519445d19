package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.DocumentSplit;
import org.apache.spark.sql.Row;

import java.util.Iterator;
import java.util.NoSuchElementException;

/** Documents from rows of one string column; null and empty values are skipped and counted. */
final class ParquetDocuments implements Iterator<Document> {
    private final int shard;
    private final Iterator<Row> rows;
    private final ShardReport report;
    private final long source;
    private long ordinal;
    private Document next;

    ParquetDocuments(int shard, Iterator<Row> rows, ShardReport report) {
        this.shard = shard;
        this.rows = rows;
        this.report = report;
        this.source = DocumentSplit.sourceHash("parquet shard " + shard);
    }

    @Override
    public boolean hasNext() {
        while (next == null && rows.hasNext()) {
            String text = rows.next().getString(0);
            long row = ordinal++;
            if (text == null || text.isEmpty()) {
                report.skip(text == null ? "null_text" : "empty_document", "parquet shard " + shard, 0, row);
                continue;
            }
            next = new Document(source, row, text);
        }
        return next != null;
    }

    @Override
    public Document next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Document d = next;
        next = null;
        return d;
    }
}
