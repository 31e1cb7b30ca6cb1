set terminal pngcairo noenhanced font 'sans,10' size 1457,450
set grid
set key outside right top
set output 'curves.png'
set xtics 1
set multiplot layout 1,3 title 'Training curves per run' margins 0.06,0.838,0.133,0.822 spacing 0.07,0.12
set xlabel 'epoch'
set key off
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
plot 'curves.dat' index 0 using 1:2 with linespoints pointsize 0.6 title "float epochs=10", \
     'curves.dat' index 1 using 1:2 with linespoints pointsize 0.6 title "float epochs=20", \
     'curves.dat' index 2 using 1:2 with linespoints pointsize 0.6 title "float epochs=5", \
     'curves.dat' index 3 using 1:2 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=10", \
     'curves.dat' index 4 using 1:2 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=20", \
     'curves.dat' index 5 using 1:2 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=5"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
plot 'curves.dat' index 0 using 1:3 with linespoints pointsize 0.6 title "float epochs=10", \
     'curves.dat' index 1 using 1:3 with linespoints pointsize 0.6 title "float epochs=20", \
     'curves.dat' index 2 using 1:3 with linespoints pointsize 0.6 title "float epochs=5", \
     'curves.dat' index 3 using 1:3 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=10", \
     'curves.dat' index 4 using 1:3 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=20", \
     'curves.dat' index 5 using 1:3 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=5"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key at screen 0.995,0.822 right top
plot 'curves.dat' index 0 using 1:4 with linespoints pointsize 0.6 title "float epochs=10", \
     'curves.dat' index 1 using 1:4 with linespoints pointsize 0.6 title "float epochs=20", \
     'curves.dat' index 2 using 1:4 with linespoints pointsize 0.6 title "float epochs=5", \
     'curves.dat' index 3 using 1:4 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=10", \
     'curves.dat' index 4 using 1:4 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=20", \
     'curves.dat' index 5 using 1:4 with linespoints pointsize 0.6 title "M_w=3 M_a=4 epochs=5"
unset multiplot
