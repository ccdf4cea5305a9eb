# want: 3: CSI volume without access_mode
experiment "vocab" {
  volume "data" {
    type            = "csi"
    source          = "imagenet"
    attachment_mode = "file-system"
  }
  task "train" {
    command = "/usr/bin/python3"
  }
}
