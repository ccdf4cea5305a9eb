# want: 6: Reference to undeclared input variable: No variable named "epochs" is declared (did you mean "epoch"?)
variable "epoch" {
  default = 10
}
experiment "vars" {
  num_samples = var.epochs
  task "train" {
    command = "python3"
  }
}
