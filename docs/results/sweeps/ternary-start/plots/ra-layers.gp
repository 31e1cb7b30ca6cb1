set terminal pngcairo noenhanced font 'sans,10' size 900,500
set grid
set key outside right top
set output 'ra-layers.png'
set title 'Non-zero activation outputs per layer (R_a, last epoch, mean over the seeds each bar names)'
set ylabel 'R_a [%]'
set xlabel 'activation layer (input side left)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set xtics rotate by -45
plot for [i=2:5] 'ra-layers.dat' using i:xtic(1) title columnheader(i)
