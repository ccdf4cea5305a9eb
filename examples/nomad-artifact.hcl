# A multi-node PyTorch DDP sweep on a Nomad cluster whose code comes from an
# artifact and whose data from a host volume: nothing has to be installed on
# the clients but Python, PyTorch and the dataset. Each trial's
# configuration is rendered to a file beside the code.
#
#   tune plan  -address http://nomad.example:4646 examples/nomad-artifact.hcl -var code_version=1.4.0
#   tune apply -address http://nomad.example:4646 examples/nomad-artifact.hcl -var code_version=1.4.0
#
# The clients offer the dataset as a host volume, in their configuration:
#   client { host_volume "imagenet" { path = "/srv/imagenet"  read_only = true } }
variable "code_version" {
  type    = string
  default = "1.4.0"
}

experiment "ddp-imagenet" {
  description           = "ResNet-50 on ImageNet, 2 or 4 nodes per trial"
  metric                = "val_loss"
  mode                  = "min"
  num_samples           = 4
  max_concurrent_trials = 4
  seed                  = 7
  placement             = "strict_spread"

  space {
    lr      = loguniform(1e-4, 1e-1)
    batch   = choice([128, 256])
    workers = grid([2, 4])
  }

  group "rank" {
    count = trial.workers

    volume "imagenet" {
      type      = "host"
      source    = "imagenet"
      read_only = true
    }

    resources {
      cpu    = 8
      memory = "48GiB"
      gpu    = 1
    }

    task "train" {
      driver       = "exec"
      command      = "/usr/bin/python3"
      args         = ["local/code/train.py", "--config=local/config.json", "--data=/data"]
      kill_signal  = "SIGINT"
      kill_timeout = "30s"

      artifact {
        source      = "https://artifacts.example.com/resnet/train-${var.code_version}.tar.gz"
        destination = "local/code"
        # options { checksum = "sha256:..." } makes every rank check the bytes.
      }

      template {
        data        = jsonencode({ lr = trial.lr, batch = trial.batch, epochs = 90 })
        destination = "local/config.json"
        change_mode = "noop"
      }

      volume_mount {
        volume      = "imagenet"
        destination = "/data"
        read_only   = true
      }

      logs {
        max_files     = 5
        max_file_size = 20
      }
    }
  }

  failure {
    max_failures = 1
  }

  stop {
    trial_timeout = "12h"
  }

  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
  }
}
