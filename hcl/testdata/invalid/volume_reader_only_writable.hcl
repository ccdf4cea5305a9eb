# want: 6: Volume access needs read_only
experiment "vocab" {
  volume "data" {
    type        = "host"
    source      = "imagenet"
    access_mode = "single-node-reader-only"
  }
  task "train" {
    command = "/usr/bin/python3"
  }
}
