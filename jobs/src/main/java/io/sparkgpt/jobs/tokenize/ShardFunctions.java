package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.io.HadoopConf;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.util.CollectionAccumulator;

import java.util.Iterator;

/**
 * The functions Spark ships to executors: small, named, and holding only serializable settings.
 * The tokenizer is never shipped; each executor JVM builds its own on first use.
 */
final class ShardFunctions {
    private ShardFunctions() {
    }

    /** Tokenizes the shard of file ranges in each partition (one shard a partition). */
    static final class FileShardToWindows implements Function2<Integer, Iterator<Shard>, Iterator<Row>> {
        private final TokenizeSettings settings;
        private final Broadcast<HadoopConf> conf;
        private final CollectionAccumulator<ShardReport> reports;

        FileShardToWindows(TokenizeSettings settings, Broadcast<HadoopConf> conf,
                           CollectionAccumulator<ShardReport> reports) {
            this.settings = settings;
            this.conf = conf;
            this.reports = reports;
        }

        @Override
        public Iterator<Row> call(Integer partition, Iterator<Shard> shards) {
            Shard shard = shards.next();
            ShardReport report = new ShardReport(shard.index());
            ShardDocuments documents = new ShardDocuments(shard, settings, conf.value().get(), report);
            return new WindowRows(shard.index(), documents, settings, report, reports::add);
        }
    }

    /** Tokenizes a partition of Parquet rows (one string column); the partition is the shard. */
    static final class ParquetRowsToWindows implements Function2<Integer, Iterator<Row>, Iterator<Row>> {
        private final TokenizeSettings settings;
        private final CollectionAccumulator<ShardReport> reports;

        ParquetRowsToWindows(TokenizeSettings settings, CollectionAccumulator<ShardReport> reports) {
            this.settings = settings;
            this.reports = reports;
        }

        @Override
        public Iterator<Row> call(Integer partition, Iterator<Row> rows) {
            ShardReport report = new ShardReport(partition);
            Iterator<Document> documents = new ParquetDocuments(partition, rows, report);
            return new WindowRows(partition, documents, settings, report, reports::add);
        }
    }
}
