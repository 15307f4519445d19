package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.BookSplit;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.DocumentSplit;
import io.sparkgpt.tokenization.SlidingWindows;
import io.sparkgpt.tokenization.TokenStream;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetWriter;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Tokenizes one shard's documents into its windows and writes them, a split's windows to that
 * split's file of the shard (opened at its first window). Each split has its own token stream,
 * so offsets are positions in that split's stream of the shard.
 */
final class ShardWindows {
    /** What a task returns to the driver: its shard's report and the files it wrote. */
    record Output(ShardReport report, List<String> files) implements Serializable {
    }

    private final TokenizeSettings settings;
    private final Tokenizer tokenizer;
    private final DocumentSplit split;
    private final TokenStream[] streams = new TokenStream[2];
    private final SlidingWindows[] windows = new SlidingWindows[2];
    @SuppressWarnings("unchecked")
    private final ParquetWriter<WindowFiles.Window>[] writers = new ParquetWriter[2];
    private final List<String> files = new ArrayList<>();

    private ShardWindows(int shard, TokenizeSettings settings, Path dataset, int attempt, Configuration conf) {
        this.settings = settings;
        this.tokenizer = Tokenizer.shared(settings.encoding());
        this.split = new DocumentSplit(settings.valFraction(), settings.seed());
        int tokenBytes = DatasetFormat.tokenBytes(tokenizer.vocabSize());
        for (int s = 0; s < 2; s++) {
            int splitIndex = s;
            Path file = WindowFiles.file(dataset, DatasetFormat.SPLITS.get(s), shard, attempt);
            windows[s] = new SlidingWindows(settings.maxLength(), settings.stride(), (offset, ids) ->
                    write(splitIndex, file, conf, new WindowFiles.Window(DatasetFormat.encode(ids, tokenBytes),
                            shard, offset)));
            streams[s] = new TokenStream(tokenizer.eotId(), windows[s]);
        }
    }

    /** Tokenizes and writes all of {@code documents}; {@code report} is filled as they are read. */
    static Output write(int shard, Iterator<Document> documents, TokenizeSettings settings, ShardReport report,
                        Path dataset, int attempt, Configuration conf) {
        ShardWindows out = new ShardWindows(shard, settings, dataset, attempt, conf);
        try {
            while (documents.hasNext()) {
                out.add(documents.next());
            }
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("writing shard " + shard + " to " + dataset + ": " + e.getMessage(), e);
        }
        for (int s = 0; s < 2; s++) {
            report.documents[s] = out.streams[s].documents();
            report.tokens[s] = out.streams[s].tokens();
            report.windows[s] = out.windows[s].windows();
        }
        return new Output(report, List.copyOf(out.files));
    }

    private void add(Document document) {
        if (settings.bookSplit()) {
            BookSplit.Parts parts = BookSplit.split(document.text(), settings.valFraction());
            streams[ShardReport.TRAIN].addDocument(tokenizer.encode(parts.train()));
            if (settings.valFraction() > 0) {
                streams[ShardReport.VAL].addDocument(tokenizer.encode(parts.val()));
            }
            return;
        }
        int s = split.isValidation(document.sourceHash(), document.position()) ? ShardReport.VAL : ShardReport.TRAIN;
        streams[s].addDocument(tokenizer.encode(document.text()));
    }

    private void write(int s, Path file, Configuration conf, WindowFiles.Window window) {
        try {
            if (writers[s] == null) {
                writers[s] = WindowFiles.writer(file, conf);
                files.add(file.toUri().getPath());
            }
            writers[s].write(window);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    private void close() throws IOException {
        for (ParquetWriter<WindowFiles.Window> w : writers) {
            if (w != null) {
                w.close();
            }
        }
    }
}
