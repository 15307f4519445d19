package io.sparkgpt.model;

import java.util.Locale;

/**
 * Which parameters fine-tuning trains (the book's chapter 6 freezes all but the last block, the
 * final norm and the new head). A frozen parameter gets a zero gradient and no weight decay, so
 * AdamW (its moments staying zero) leaves it exactly as it was, under every synchronization.
 */
public enum Trainable {
    /** Every parameter. */
    ALL,
    /** The last transformer block, the final norm and the head. */
    LAST_BLOCK,
    /** The head alone. */
    HEAD;

    /** The command line's spelling: all, last-block, head. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Trainable of(String id) {
        for (Trainable t : values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("--trainable '" + id + "' is not one of all, last-block, head");
    }

    /** Whether parameter {@code name} of a network of config {@code c} is trained. */
    public boolean trains(String name, GptConfig c) {
        return switch (this) {
            case ALL -> true;
            case HEAD -> name.equals(GptParams.headName(c));
            case LAST_BLOCK -> name.equals(GptParams.headName(c)) || name.equals(GptParams.FINAL_NORM_SCALE)
                    || name.equals(GptParams.FINAL_NORM_SHIFT) || inBlock(name, c.nLayers() - 1);
        };
    }

    /** The first block whose gradients are needed: backward stops there (nLayers: none). */
    public int firstTrainedBlock(GptConfig c) {
        return switch (this) {
            case ALL -> 0;
            case LAST_BLOCK -> c.nLayers() - 1;
            case HEAD -> c.nLayers();
        };
    }

    private static boolean inBlock(String name, int block) {
        String prefix = GptParams.block(block, "");
        return name.startsWith(prefix) && name.length() > prefix.length()
                && !Character.isDigit(name.charAt(prefix.length()));
    }
}
