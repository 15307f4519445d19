package io.sparkgpt.jobs.tokenize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.tokenization.DocumentSplit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The documents of one shard, read lazily from its file ranges (on an executor). Problems are
 * counted in the shard's report: binary files, invalid UTF-8, oversized documents, JSON lines
 * that don't parse or lack the text field.
 */
final class ShardDocuments implements Iterator<Document> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Iterator<Shard.FileRange> ranges;
    private final TokenizeSettings settings;
    private final Configuration conf;
    private final ShardReport report;
    private final Utf8 utf8;
    private Shard.FileRange range;
    private long rangeSource;
    private RangeLineReader lines;
    private Document next;

    ShardDocuments(Shard shard, TokenizeSettings settings, Configuration conf, ShardReport report) {
        this.ranges = shard.ranges().iterator();
        this.settings = settings;
        this.conf = conf;
        this.report = report;
        this.utf8 = new Utf8(!settings.skipBadRecords(), report);
    }

    @Override
    public boolean hasNext() {
        try {
            while (next == null && (lines != null || ranges.hasNext())) {
                next = lines != null ? nextFromLines() : openRange(ranges.next());
            }
            return next != null;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + range.path() + ": " + e.getMessage(), e);
        }
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

    /** Starts a range: a whole document in text mode, else a line reader (null document). */
    private Document openRange(Shard.FileRange r) throws IOException {
        range = r;
        rangeSource = DocumentSplit.sourceHash(r.path());
        Path path = new Path(r.path());
        FSDataInputStream in = path.getFileSystem(conf).open(path);
        if (r.wholeFile() && CorpusPlanner.hasNul(in.readNBytes(CorpusPlanner.SNIFF_BYTES))) {
            in.close();
            badRecord("binary_file", r.path() + " looks binary (a NUL byte in its first 8,000 bytes): remove it "
                    + "from --input", -1);
            return null;
        }
        if (settings.format() == InputFormat.TEXT) {
            return readWholeFile(in, r);
        }
        boolean atLineStart = r.start() == 0;
        in.seek(Math.max(0, r.start() - 1));
        if (!atLineStart) {
            atLineStart = in.read() == '\n';
        }
        lines = new RangeLineReader(in, r.start(), r.end(), settings.maxDocumentBytes(), atLineStart);
        return null;
    }

    private Document readWholeFile(FSDataInputStream in, Shard.FileRange r) throws IOException {
        try (in) {
            if (r.fileLength() > settings.maxDocumentBytes()) {
                badRecord("oversized_document", r.path() + " is larger than --max-document-mb: use --format lines "
                        + "or raise the limit", -1);
                return null;
            }
            in.seek(0);
            byte[] bytes = in.readAllBytes();
            String text = utf8.decode(bytes, bytes.length, r.path(), 0);
            if (text.isEmpty()) {
                report.skip("empty_document", r.path(), r.start(), -1);
                return null;
            }
            return new Document(rangeSource, 0, text);
        }
    }

    /** The next document of the current range's lines, or null (range finished or line skipped). */
    private Document nextFromLines() throws IOException {
        long index = lines.lines();
        RangeLineReader.Line line = lines.next();
        if (line == null) {
            report.rangeLines.add(new ShardReport.RangeLines(range.path(), range.start(), lines.lines()));
            lines.close();
            lines = null;
            return null;
        }
        if (line.oversized()) {
            badRecord("oversized_document", "the line at byte " + line.offset() + " of " + range.path()
                    + " is longer than --max-document-mb: split it or raise the limit", index);
            return null;
        }
        if (isBlank(line.bytes(), line.length())) {
            return null;
        }
        String text = utf8.decode(line.bytes(), line.length(), range.path(), line.offset());
        if (settings.format() == InputFormat.JSONL) {
            text = textField(text, index, line.offset());
        }
        return text == null ? null : new Document(rangeSource, line.offset(), text);
    }

    /**
     * A record a clean corpus doesn't hold. It fails the job with one line naming it (Spark's
     * FAILFAST), unless --skip-bad-records: then it is skipped and counted in dataset.json.
     */
    private void badRecord(String reason, String problemAndFix, long lineInRange) {
        if (!settings.skipBadRecords()) {
            throw new UserInputException(problemAndFix + ", or pass --skip-bad-records to skip such records "
                    + "(counted in dataset.json)");
        }
        report.skip(reason, range.path(), range.start(), lineInRange);
    }

    /** The JSON line's text field, or null (counted) if the line is not JSON or lacks the field. */
    private String textField(String jsonLine, long index, long lineOffset) {
        JsonNode node;
        try {
            node = JSON.readTree(jsonLine);
        } catch (JsonProcessingException e) {
            badRecord("invalid_json", "the line at byte " + lineOffset + " of " + range.path() + " is not JSON: "
                    + "fix it", index);
            return null;
        }
        JsonNode field = node == null ? null : node.get(settings.textField());
        if (field == null || !field.isTextual()) {
            badRecord("missing_text_field", "the line at byte " + lineOffset + " of " + range.path() + " has no "
                    + "string field '" + settings.textField() + "': fix it or name the field with --text-field",
                    index);
            return null;
        }
        if (field.textValue().isEmpty()) {
            report.skip("empty_document", range.path(), range.start(), index);
            return null;
        }
        return field.textValue();
    }

    private static boolean isBlank(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\f') {
                return false;
            }
        }
        return true;
    }
}
