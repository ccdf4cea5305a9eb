# want: 9: Volume mount without destination
experiment "vocab" {
  volume "data" {
    source = "imagenet"
  }
  task "train" {
    driver  = "exec"
    command = "/usr/bin/python3"
    volume_mount {
      volume = "data"
    }
  }
}
