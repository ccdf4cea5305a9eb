# A docker task: the config block goes to Nomad as written, with trial
# values filled in and Nomad's runtime variables left for Nomad.
variable "image" {
  type    = string
  default = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"
}

experiment "containers" {
  space {
    lr         = grid([0.001])
    batch_size = grid([64])
  }

  resources {
    cpu    = 2
    memory = "4GiB"
  }

  task "train" {
    driver  = "docker"
    command = "python3"
    args    = ["train.py"]
    config {
      image   = var.image
      command = "python3"
      args    = ["/work/train.py", "--lr=${trial.lr}", "--batch-size=${trial.batch_size}", "--out=${NOMAD_ALLOC_DIR}/model"]
      volumes = ["${NOMAD_ALLOC_DIR}/data:/data"]
      labels = {
        trial = "${trial.id}"
      }
      mount {
        type   = "bind"
        source = "/datasets"
        target = "/datasets"
      }
    }
    env {
      DATA_DIR = "${NOMAD_ALLOC_DIR}/data"
    }
  }
}
