# want: 12: Mount of an undeclared volume: Task "train" mounts volume "dataset", but its group declares no such volume (did you mean "datasets"?)
experiment "vocab" {
  volume "datasets" {
    type   = "host"
    source = "imagenet"
  }

  task "train" {
    driver  = "exec"
    command = "/usr/bin/python3"
    args    = ["/data/train.py"]
    volume_mount {
      volume      = "dataset"
      destination = "/data"
    }
  }
}
