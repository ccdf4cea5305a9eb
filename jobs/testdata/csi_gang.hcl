# A gang of two ranks, each with its own CSI volume (per_alloc) and a
# bridge network with a dynamic port.
experiment "csi" {
  space {
    workers = grid([2])
  }

  group "worker" {
    count = trial.workers

    volume "scratch" {
      type            = "csi"
      source          = "scratch"
      access_mode     = "single-node-writer"
      attachment_mode = "file-system"
      per_alloc       = true
    }

    network {
      mode = "bridge"
      port "rendezvous" {
        to = 29500
      }
    }

    task "train" {
      driver  = "exec"
      command = "/opt/train/bin/train"
      volume_mount {
        volume      = "scratch"
        destination = "/scratch"
      }
    }
  }
}
