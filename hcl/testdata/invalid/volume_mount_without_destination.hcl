# want: 8: Volume mount without destination
experiment "vocab" {
  volume "data" {
    source = "imagenet"
  }
  task "train" {
    command = "/usr/bin/python3"
    volume_mount {
      volume = "data"
    }
  }
}
