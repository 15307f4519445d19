package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.BookSplit;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.DocumentSplit;
import io.sparkgpt.tokenization.SlidingWindows;
import io.sparkgpt.tokenization.TokenStream;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;

/**
 * Turns one shard's documents into window rows (split, tokens, shard, offset), lazily: a document
 * is read and tokenized only when the rows of the previous one are consumed. Each split has its
 * own token stream, so offsets are positions in that split's stream of the shard.
 */
final class WindowRows implements Iterator<Row> {
    private final int shard;
    private final Iterator<Document> documents;
    private final TokenizeSettings settings;
    private final Tokenizer tokenizer;
    private final DocumentSplit split;
    private final TokenStream[] streams = new TokenStream[2];
    private final SlidingWindows[] windows = new SlidingWindows[2];
    private final ArrayDeque<Row> pending = new ArrayDeque<>();
    private final ShardReport report;
    private final Consumer<ShardReport> onFinished;
    private boolean finished;

    WindowRows(int shard, Iterator<Document> documents, TokenizeSettings settings, ShardReport report,
               Consumer<ShardReport> onFinished) {
        this.shard = shard;
        this.documents = documents;
        this.settings = settings;
        this.tokenizer = Tokenizer.shared(settings.encoding());
        this.split = new DocumentSplit(settings.valFraction(), settings.seed());
        this.report = report;
        this.onFinished = onFinished;
        int tokenBytes = DatasetFormat.tokenBytes(tokenizer.vocabSize());
        for (int s = 0; s < 2; s++) {
            String name = DatasetFormat.SPLITS.get(s);
            windows[s] = new SlidingWindows(settings.maxLength(), settings.stride(), (offset, ids) ->
                    pending.add(RowFactory.create(name, DatasetFormat.encode(ids, tokenBytes), shard, offset)));
            streams[s] = new TokenStream(tokenizer.eotId(), windows[s]);
        }
    }

    @Override
    public boolean hasNext() {
        while (pending.isEmpty() && documents.hasNext()) {
            add(documents.next());
        }
        if (pending.isEmpty() && !finished) {
            finished = true;
            for (int s = 0; s < 2; s++) {
                report.documents[s] = streams[s].documents();
                report.tokens[s] = streams[s].tokens();
                report.windows[s] = windows[s].windows();
            }
            onFinished.accept(report);
        }
        return !pending.isEmpty();
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return pending.poll();
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
}
