# want: 6: Duplicate local value: A local value named "epochs" was already defined at
locals {
  epochs = 10
}
locals {
  epochs = 20
}
experiment "locals" {
  task "train" {
    command = "python3"
  }
}
