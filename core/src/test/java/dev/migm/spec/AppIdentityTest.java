package dev.migm.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

final class AppIdentityTest {
    @Test
    void theScriptAndItsModel_neverTheInterpreterAlone() {
        assertThat(AppIdentity.of(List.of("python", "train.py", "--model", "resnet50"), "j")).isEqualTo("train.py --model resnet50");
        assertThat(AppIdentity.of(List.of("/usr/bin/python3.11", "-u", "/home/a/serve.py", "--model=/models/gemma-2b/"), "j"))
                .isEqualTo("serve.py --model gemma-2b");
        assertThat(AppIdentity.of(List.of("python", "-m", "vllm.entrypoints.offline", "--model", "llama-7b", "--prompts",
                "p.jsonl"), "j")).isEqualTo("vllm.entrypoints.offline --model llama-7b");
        assertThat(AppIdentity.of(List.of("torchrun", "--nproc_per_node", "4", "finetune.py", "--config", "cfg/a.yaml"), "j"))
                .isEqualTo("finetune.py --config a.yaml");
        assertThat(AppIdentity.of(List.of("/bin/sh", "-c", "CUDA_LAUNCH_BLOCKING=1 python3 bench.py --arch vit"), "j"))
                .isEqualTo("bench.py --arch vit");
        assertThat(AppIdentity.of(List.of("./stencil", "-n", "4096"), "j")).isEqualTo("stencil");
        // An interpreter with nothing to run names nothing: the job's own name stands.
        assertThat(AppIdentity.of(List.of("python", "-c", "import torch"), "quick-check")).isEqualTo("quick-check");
        // Two Python jobs of different scripts or models are two applications.
        assertThat(AppIdentity.of(List.of("python", "a.py"), "x")).isNotEqualTo(AppIdentity.of(List.of("python", "b.py"), "x"));
    }
}
