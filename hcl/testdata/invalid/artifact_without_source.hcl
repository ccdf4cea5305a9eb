# want: 5: Artifact without source
experiment "vocab" {
  task "train" {
    command = "local/train.sh"
    artifact {
      destination = "local/"
    }
  }
}
