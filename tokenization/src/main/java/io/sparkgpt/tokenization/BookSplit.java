package io.sparkgpt.tokenization;

/**
 * The book's train/validation split of a single document: the text is cut at the
 * {@code int(train_ratio * len(text))} character mark and each part is tokenized on its own.
 *
 * <p>Characters are Unicode code points, as Python's {@code len} counts them, so the cut falls
 * where the book's would even in text outside the Basic Multilingual Plane.
 */
public final class BookSplit {
    private BookSplit() {
    }

    /** The text before the cut (training) and after it (validation). */
    public record Parts(String train, String val) {
    }

    public static Parts split(String text, double valFraction) {
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("val_fraction " + valFraction + " must be in [0, 1)");
        }
        int codePoints = text.codePointCount(0, text.length());
        // Python: int(train_ratio * len(text)) truncates toward zero; so does the cast.
        int cut = (int) ((1.0 - valFraction) * codePoints);
        int cutIndex = text.offsetByCodePoints(0, cut);
        return new Parts(text.substring(0, cutIndex), text.substring(cutIndex));
    }
}
