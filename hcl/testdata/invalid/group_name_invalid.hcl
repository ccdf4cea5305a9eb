# want: 3: Invalid group name: A group name starts with a letter
experiment "groups" {
  group "2workers" {
    task "train" {
      command = "python3"
    }
  }
}
