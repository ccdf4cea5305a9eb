# want: 4: Invalid value for type
experiment "vocab" {
  volume "data" {
    type   = "nfs"
    source = "imagenet"
  }
  task "train" {
    command = "/usr/bin/python3"
  }
}
