-- Say what named_losses is (made again at every commit). Binds: none
COMMENT ON VIEW named_losses IS 'The losses view with label_name and pred_name: the class names of the label and the prediction (NULL where the dump declared none).'
