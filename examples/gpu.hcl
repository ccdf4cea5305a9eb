# Trials that use a GPU only when the optimiser asks for one, as Ray Tune's
# with_resources(lambda spec: {"gpu": 1} if spec.config.use_gpu else {}).
# On this machine GPUs come from NVML (or -local-gpus N); on Nomad from the
# nvidia/gpu devices of the nodes. wait_for_gpu holds a trial until the
# GPUs it was given are free of the previous trial's memory.
variable "image" {
  type    = string
  default = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"
}

experiment "resnet-sweep" {
  metric                = "val_loss"
  mode                  = "min"
  num_samples           = 6
  max_concurrent_trials = 8
  seed                  = 42

  space {
    lr         = loguniform(1e-4, 1e-1)
    batch_size = choice([64, 128, 256])
    optimizer  = grid(["adam", "sgd"])
    use_gpu    = true
  }

  resources {
    cpu    = trial.use_gpu ? 4 : 2
    memory = trial.batch_size >= 256 ? "16GiB" : "8GiB"
    gpu    = trial.use_gpu ? 1 : 0
  }

  task "train" {
    driver  = "docker"
    command = "python3"
    args    = ["train.py", "--lr=${trial.lr}", "--batch-size=${trial.batch_size}", "--optimizer=${trial.optimizer}"]
    config {
      image   = var.image
      command = "python3"
      args    = ["/work/train.py", "--lr=${trial.lr}", "--batch-size=${trial.batch_size}", "--out=${NOMAD_ALLOC_DIR}/model"]
    }
  }

  wait_for_gpu {
    max_used = 0.01
    timeout  = "100s"
  }

  failure {
    max_failures = 2
  }

  stop {
    trial_timeout = "2h"
    at_most       = { val_loss = 0.05 }
  }

  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
    priority    = 40
  }
}
