# A two-group trial: a parameter server and a gang of GPU workers on Docker.
variable "image" {
  type    = string
  default = "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime"
}

locals {
  data  = "${local.root}/data"
  root  = "/mnt/datasets"
  flags = ["--data=${local.data}"]
}

experiment "ddp" {
  description = "data-parallel training"
  metric      = "val_acc"
  mode        = "max"
  num_samples = 2
  placement   = "spread"
  on_unfit    = "queue"

  space {
    workers = grid([2, 4])
    lr      = qloguniform(1e-4, 1e-1, 1e-4)
    batch   = qrandint(32, 256, 32)
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "ps" {
    task "server" {
      driver  = "raw_exec"
      command = "python3"
      args    = concat(["ps.py"], local.flags)
      resources {
        cores  = 2
        memory = "2GiB"
      }
    }
  }

  group "worker" {
    count = trial.workers
    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }
    resources {
      cpu        = 4
      memory     = "16GiB"
      memory_max = "24GiB"
      device "nvidia/gpu" {
        count = 1
        constraint {
          attribute = "${device.attr.memory}"
          operator  = ">="
          value     = "40 GiB"
        }
      }
    }
    task "train" {
      driver = "docker"
      config {
        image   = var.image
        command = "torchrun"
        args    = ["--nproc-per-node=1", "train.py", "--lr=${trial.lr}", "--batch=${trial.batch}"]
        volumes = ["${NOMAD_ALLOC_DIR}/ckpt:/ckpt"]
        mount {
          type   = "bind"
          source = "/mnt/datasets"
          target = "/data"
        }
      }
      env {
        WORLD  = "${trial.workers}"
        ARCH   = "${attr.cpu.arch}"
        SCRATCH = "${NOMAD_TASK_DIR}/scratch"
      }
      leader = true
    }
  }

  failure {
    max_failures = -1
    fail_fast    = false
    restarts     = 1
    retry_delay  = "30s"
  }
  stop {
    time_budget = "2d"
    at_least    = { training_iteration = 100 }
    at_most     = { loss = 0.01 }
  }
  nomad {
    datacenters      = ["dc1", "dc2"]
    namespace        = "ml"
    region           = "eu"
    gpu_device       = "nvidia/gpu"
    cpu_mhz_per_core = 2500
    purge            = true
    meta             = { team = "vision" }
    gang_timeout     = "5m"
    ui_link {
      label = "Dashboard"
      url   = "https://grafana.example.com/d/tune"
    }
  }
  wait_for_gpu {
    max_used = 0.05
    timeout  = "3m"
    interval = "10s"
  }
}
