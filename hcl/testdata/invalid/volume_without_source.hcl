# want: 3: Volume without source
experiment "vocab" {
  volume "data" {
    type = "host"
  }
  task "train" {
    command = "/usr/bin/python3"
  }
}
