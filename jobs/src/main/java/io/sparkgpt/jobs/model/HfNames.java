package io.sparkgpt.jobs.model;

import io.sparkgpt.model.GptParams;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network's parameter names and Hugging Face GPT-2's tensor names, both ways:
 * h3attnW = h.3.attn.c_attn.weight, lnfG = ln_f.weight, wte = wte.weight, lmHead = lm_head.weight.
 * Shapes already agree (linear weights are [in, out], as GPT-2's Conv1D stores them).
 */
final class HfNames {
    private static final Pattern BLOCK = Pattern.compile("h(\\d+)(\\w+)");
    private static final String[][] BLOCK_NAMES = {
        {"ln1G", "ln_1.weight"}, {"ln1B", "ln_1.bias"},
        {"attnW", "attn.c_attn.weight"}, {"attnB", "attn.c_attn.bias"},
        {"projW", "attn.c_proj.weight"}, {"projB", "attn.c_proj.bias"},
        {"ln2G", "ln_2.weight"}, {"ln2B", "ln_2.bias"},
        {"fcW", "mlp.c_fc.weight"}, {"fcB", "mlp.c_fc.bias"},
        {"fc2W", "mlp.c_proj.weight"}, {"fc2B", "mlp.c_proj.bias"},
    };

    private HfNames() {
    }

    static String toHf(String name) {
        switch (name) {
            case GptParams.TOKEN_EMBEDDING: return "wte.weight";
            case GptParams.POSITION_EMBEDDING: return "wpe.weight";
            case GptParams.FINAL_NORM_SCALE: return "ln_f.weight";
            case GptParams.FINAL_NORM_SHIFT: return "ln_f.bias";
            case GptParams.HEAD: return "lm_head.weight";
            default: break;
        }
        Matcher m = BLOCK.matcher(name);
        if (m.matches()) {
            for (String[] pair : BLOCK_NAMES) {
                if (pair[0].equals(m.group(2))) {
                    return "h." + m.group(1) + "." + pair[1];
                }
            }
        }
        throw new IllegalArgumentException("no Hugging Face name for parameter " + name);
    }

    /** Block i's qkv bias, which GPT-2 files always hold (zeros when the model has none). */
    static String qkvBias(int block) {
        return "h." + block + ".attn.c_attn.bias";
    }
}
