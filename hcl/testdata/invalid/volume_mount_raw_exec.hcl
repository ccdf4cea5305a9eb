# want: 8: Volume mount in a raw_exec task: Task "train" runs with Nomad's raw_exec driver
experiment "vocab" {
  volume "data" {
    source = "imagenet"
  }
  task "train" {
    command = "/usr/bin/python3"
    volume_mount {
      volume      = "data"
      destination = "/data"
    }
  }
}
