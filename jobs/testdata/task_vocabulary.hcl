# One task group with the Nomad task vocabulary: code from an artifact, a
# config rendered from a template (one per trial), a host volume of data,
# a sidecar, a prestart and a poststop task, and its own logs and timeouts.
experiment "vocab" {
  space {
    lr    = grid([0.01])
    batch = grid([64])
  }

  volume "data" {
    type      = "host"
    source    = "imagenet"
    read_only = true
  }

  network {
    port "metrics" {}
    port "ui" {
      static = 8080
      to     = 80
    }
  }

  task "fetch" {
    command = "/usr/bin/env"
    args    = ["true"]
    lifecycle {
      hook = "prestart"
    }
  }

  task "train" {
    driver         = "exec"
    command        = "local/code/train.py"
    args           = ["--config", "local/config.json"]
    user           = "trainer"
    kill_signal    = "SIGINT"
    kill_timeout   = "25s"
    shutdown_delay = "5s"
    leader         = true

    artifact {
      source      = "https://example.com/code-${trial.batch}.tar.gz"
      destination = "local/code"
      mode        = "dir"
      options {
        checksum = "sha256:0123456789abcdef"
      }
      headers {
        Authorization = "Bearer token"
      }
    }

    template {
      data        = jsonencode({ lr = trial.lr, batch = trial.batch })
      destination = "local/config.json"
      change_mode = "noop"
      perms       = "0640"
    }

    template {
      data            = "DATA_DIR=<< env \"NOMAD_ALLOC_DIR\" >>/data\n"
      destination     = "local/data.env"
      env             = true
      left_delimiter  = "<<"
      right_delimiter = ">>"
    }

    volume_mount {
      volume      = "data"
      destination = "/data"
      read_only   = true
    }

    logs {
      max_files     = 3
      max_file_size = 50
    }
  }

  task "exporter" {
    command = "/usr/local/bin/exporter"
    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
  }

  task "upload" {
    command = "/usr/local/bin/upload"
    lifecycle {
      hook = "poststop"
    }
    template {
      source        = "/etc/upload.tpl"
      destination   = "local/upload.conf"
      change_mode   = "signal"
      change_signal = "SIGHUP"
    }
  }
}
