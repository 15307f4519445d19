package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.io.HadoopConf;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;

import java.util.Iterator;
import java.util.List;

/**
 * The functions Spark ships to executors: small, named, and holding only serializable settings.
 * The tokenizer is never shipped; each executor JVM builds its own on first use. Each task
 * writes its shard's windows under the dataset directory and returns what it wrote.
 */
final class ShardFunctions {
    private ShardFunctions() {
    }

    /** Where a task writes, and with which file system settings. */
    record Target(String dataset, Broadcast<HadoopConf> conf) implements java.io.Serializable {
        ShardWindows.Output write(int shard, Iterator<Document> documents, TokenizeSettings settings,
                                  ShardReport report) {
            return ShardWindows.write(shard, documents, settings, report, new Path(dataset),
                    TaskContext.get().attemptNumber(), conf.value().get());
        }
    }

    /** Tokenizes the shard of file ranges in each partition (one shard a partition). */
    static final class FileShardToWindows
            implements Function2<Integer, Iterator<Shard>, Iterator<ShardWindows.Output>> {
        private final TokenizeSettings settings;
        private final Target target;

        FileShardToWindows(TokenizeSettings settings, Target target) {
            this.settings = settings;
            this.target = target;
        }

        @Override
        public Iterator<ShardWindows.Output> call(Integer partition, Iterator<Shard> shards) {
            Shard shard = shards.next();
            ShardReport report = new ShardReport(shard.index());
            ShardDocuments documents = new ShardDocuments(shard, settings, target.conf().value().get(), report);
            return List.of(target.write(shard.index(), documents, settings, report)).iterator();
        }
    }

    /** Tokenizes a partition of Parquet rows (one string column); the partition is the shard. */
    static final class ParquetRowsToWindows
            implements Function2<Integer, Iterator<Row>, Iterator<ShardWindows.Output>> {
        private final TokenizeSettings settings;
        private final Target target;

        ParquetRowsToWindows(TokenizeSettings settings, Target target) {
            this.settings = settings;
            this.target = target;
        }

        @Override
        public Iterator<ShardWindows.Output> call(Integer partition, Iterator<Row> rows) {
            ShardReport report = new ShardReport(partition);
            Iterator<Document> documents = new ParquetDocuments(partition, rows, report);
            return List.of(target.write(partition, documents, settings, report)).iterator();
        }
    }
}
