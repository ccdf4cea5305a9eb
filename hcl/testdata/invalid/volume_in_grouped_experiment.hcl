# want: 3: A volume block outside a group
experiment "vocab" {
  volume "data" {
    source = "imagenet"
  }
  group "train" {
    task "train" {
      command = "/usr/bin/python3"
    }
  }
}
