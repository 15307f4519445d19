package io.sparkgpt.model.engine;

/**
 * Rotary position embeddings (RoPE) in the rotate-half convention of Hugging Face's
 * LlamaForCausalLM: in each head, element i < hs/2 pairs with element i + hs/2, and position t
 * turns the pair by the angle t / theta^(2i / hs):
 * {@code (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)}. Applied to the queries and keys of the
 * fused projection in place; backward turns their gradients back by the same angles (a rotation's
 * transpose is its inverse).
 */
public final class Rotary {

    private final int half;
    private final int positions;
    /** cos and sin of [position, i], i < hs/2, in double. */
    private final double[] cos;
    private final double[] sin;

    public Rotary(int contextLength, int headSize, double theta) {
        this.half = headSize / 2;
        this.positions = contextLength;
        this.cos = new double[contextLength * half];
        this.sin = new double[contextLength * half];
        for (int i = 0; i < half; i++) {
            double inverseFrequency = 1.0 / Math.pow(theta, 2.0 * i / headSize);
            for (int t = 0; t < contextLength; t++) {
                cos[t * half + i] = Math.cos(t * inverseFrequency);
                sin[t * half + i] = Math.sin(t * inverseFrequency);
            }
        }
    }

    /**
     * Turns the q heads (columns h*hs of each row) and k heads (columns c + j*hs) of
     * {@code rows} rows of qkv [rows, ld] by their positions: row r is position
     * {@code first + r % time}. {@code inverse}: by minus the angles (backward).
     */
    public void apply(Buf qkv, int rows, int time, int first, int ld, int c, int heads, int kvHeads,
                      boolean inverse) {
        int hs = 2 * half;
        double direction = inverse ? -1 : 1;
        float[] head = qkv instanceof Buf.F32 ? new float[hs] : null;     // one heap copy of a head, reused
        for (int r = 0; r < rows; r++) {
            int t = first + r % time;
            if (t >= positions) {
                throw new IllegalArgumentException("position " + t + " is beyond context_length " + positions);
            }
            for (int h = 0; h < heads + kvHeads; h++) {
                int at = r * ld + (h < heads ? h * hs : c + (h - heads) * hs);
                turn(qkv, at, t * half, direction, head);
            }
        }
    }

    private void turn(Buf x, int at, int angles, double direction, float[] head) {
        if (head != null) {
            turnFloats((Buf.F32) x, at, angles, direction, head);
            return;
        }
        for (int i = 0; i < half; i++) {
            double c = cos[angles + i];
            double s = direction * sin[angles + i];
            double x1 = x.get(at + i);
            double x2 = x.get(at + half + i);
            x.set(at + i, x1 * c - x2 * s);
            x.set(at + half + i, x2 * c + x1 * s);
        }
    }

    /** As the generic loop (the same double arithmetic and float stores), on a heap copy of the head. */
    private void turnFloats(Buf.F32 x, int at, int angles, double direction, float[] head) {
        x.read(at, head, 2 * half);
        for (int i = 0; i < half; i++) {
            double c = cos[angles + i];
            double s = direction * sin[angles + i];
            double x1 = head[i];
            double x2 = head[half + i];
            head[i] = (float) (x1 * c - x2 * s);
            head[half + i] = (float) (x2 * c + x1 * s);
        }
        x.write(at, head, 2 * half);
    }
}
