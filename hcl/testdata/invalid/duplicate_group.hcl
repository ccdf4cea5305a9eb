# want: 8: Duplicate group: A group named "worker" was already defined at
experiment "groups" {
  group "worker" {
    task "train" {
      command = "python3"
    }
  }
  group "worker" {
    task "train" {
      command = "python3"
    }
  }
}
