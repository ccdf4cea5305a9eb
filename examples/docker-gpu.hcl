# The same kind of sweep on a Nomad cluster with the Docker driver: the
# config block goes to Nomad's docker driver as written (after per-trial
# evaluation); command and args are what the local target would run.
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
  }

  resources {
    cpu    = 4
    memory = trial.batch_size >= 256 ? "16GiB" : "8GiB"
    gpu    = 1
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

  failure {
    max_failures = 2
  }

  stop {
    trial_timeout = "2h"
  }

  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
    priority    = 40
  }
}
