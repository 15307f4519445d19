package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The windows' Parquet files: DIR/train and DIR/val each hold a file a shard that has windows
 * there, rows (tokens, shard, offset) in offset order. A task writes its files straight with
 * parquet-mr (no Spark SQL writer: its planning, sort and commit protocol cost a small corpus a
 * fixed ~0.2 s a job) under names that carry the task attempt, and the driver keeps the files of
 * the attempts whose results it received ({@link #keepOnly}).
 */
final class WindowFiles {
    /** As Spark reads them; stored in each file's footer so that Spark reads exactly this schema. */
    static final StructType SPARK_SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField(DatasetFormat.TOKENS, DataTypes.BinaryType, false),
            DataTypes.createStructField(DatasetFormat.SHARD, DataTypes.IntegerType, false),
            DataTypes.createStructField(DatasetFormat.OFFSET, DataTypes.LongType, false)});
    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.BINARY).named(DatasetFormat.TOKENS)
            .required(PrimitiveTypeName.INT32).named(DatasetFormat.SHARD)
            .required(PrimitiveTypeName.INT64).named(DatasetFormat.OFFSET)
            .named("spark_schema");
    private static final String SPARK_ROW_METADATA = "org.apache.spark.sql.parquet.row.metadata";
    /** Hadoop's marker of a complete output directory, which tools that watch for outputs expect. */
    static final String SUCCESS_MARKER = "_SUCCESS";

    private WindowFiles() {
    }

    /** One window: {@code tokens} as {@link DatasetFormat#encode} lays them out. */
    record Window(byte[] tokens, int shard, long offset) {
    }

    /** The file of {@code shard}'s windows in {@code split}, written by task attempt {@code attempt}. */
    static Path file(Path dataset, String split, int shard, int attempt) {
        return new Path(new Path(dataset, split), String.format("part-%05d-%d.zstd.parquet", shard, attempt));
    }

    /**
     * A writer of one split's windows. Windows are all distinct, so a dictionary of them only
     * costs time; zstd on the raw ids gives fewer bytes a token than nanoGPT's uint16 .bin.
     */
    static ParquetWriter<Window> writer(Path file, Configuration conf) throws IOException {
        return new Builder(HadoopOutputFile.fromPath(file, conf)).withConf(conf)
                .withCompressionCodec(CompressionCodecName.ZSTD).withDictionaryEncoding(false)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE).build();
    }

    /**
     * Deletes the files that no successful task attempt reported (those of failed or duplicate
     * attempts), writes an empty file for a split without any, and marks the directory complete.
     */
    static void keepOnly(FileSystem fs, Path dataset, Collection<String> reported, Configuration conf)
            throws IOException {
        Set<String> kept = new HashSet<>(reported);
        for (String split : DatasetFormat.SPLITS) {
            Path directory = new Path(dataset, split);
            boolean any = false;
            for (FileStatus f : fs.exists(directory) ? fs.listStatus(directory) : new FileStatus[0]) {
                String name = f.getPath().getName();
                if (name.startsWith(".")) {
                    continue; // a local file system's checksum files
                }
                if (kept.contains(new Path(directory, name).toUri().getPath())) {
                    any = true;
                } else {
                    fs.delete(f.getPath(), false);
                }
            }
            if (!any) {
                writer(new Path(directory, "part-empty.zstd.parquet"), conf).close();
            }
        }
        fs.create(new Path(dataset, SUCCESS_MARKER), true).close();
    }

    private static final class Builder extends ParquetWriter.Builder<Window, Builder> {
        Builder(OutputFile file) {
            super(file);
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<Window> getWriteSupport(Configuration conf) {
            return new WindowWriteSupport();
        }
    }

    private static final class WindowWriteSupport extends WriteSupport<Window> {
        private RecordConsumer out;

        @Override
        public WriteContext init(Configuration conf) {
            return new WriteContext(SCHEMA, Map.of(SPARK_ROW_METADATA, SPARK_SCHEMA.json()));
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            out = recordConsumer;
        }

        @Override
        public void write(Window w) {
            out.startMessage();
            out.startField(DatasetFormat.TOKENS, 0);
            out.addBinary(Binary.fromConstantByteArray(w.tokens()));
            out.endField(DatasetFormat.TOKENS, 0);
            out.startField(DatasetFormat.SHARD, 1);
            out.addInteger(w.shard());
            out.endField(DatasetFormat.SHARD, 1);
            out.startField(DatasetFormat.OFFSET, 2);
            out.addLong(w.offset());
            out.endField(DatasetFormat.OFFSET, 2);
            out.endMessage();
        }
    }
}
